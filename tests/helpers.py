"""Test helpers: a static site server, settings for the local server, polling helpers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qs

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from smooth_agents.local import LocalServerSettings
from smooth_agents.local.server import bound_socket

if TYPE_CHECKING:
    from smooth_agents import AsyncSmoothClient

T = TypeVar("T")

SITE_DIR = Path(__file__).parent / "site"
DEMO_DIR = Path(__file__).parent.parent / "smooth_agents" / "local" / "demo_site"
# The demo site's pages as a map of it lists them (its listing has three numbered pages).
DEMO_PAGES = (
    "index.html",
    "product.html",
    "listing.html",
    "article.html",
    "table.html",
    *(f"listing.html?page={n}" for n in (1, 2, 3)),
)
# A schema the demo site's product page fills (title and price).
LAPTOP = {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number"}}}
API_KEY = "sk-test-key-0123456789"


# Words of a generated article: several scripts, so a cut that split a character would show.
_WORDS = [
    "browser",
    "agent",
    "naïve",
    "café",
    "Zürich",
    "東京",
    "データ",
    "emoji",
    "🚀",
    "déjà-vu",
    "señor",
    "Ελλάδα",
    "résumé",
]


def long_article(chars: int) -> str:
    """An article page whose text runs to about ``chars`` characters, in numbered paragraphs."""
    paragraphs: list[str] = []
    size = 0
    while size < chars:
        n = len(paragraphs)
        words = [_WORDS[(n * 7 + i) % len(_WORDS)] for i in range(60)]
        text = f"Paragraph {n}: " + " ".join(words) + "."
        paragraphs.append(f"<p>{text}</p>")
        size += len(text) + 2
    body = "\n".join(paragraphs)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>A very long article</title></head>"
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article><h1>A very long article</h1>"
        f"{body}</article></main><footer>Footer</footer></body></html>"
    )


def listing_page(rows: int) -> str:
    """A product listing with ``rows`` cards (name, price, rating)."""
    cards = "".join(
        f"<li class='product-card'><h3 class='product-name'><a href='/p/{i}'>Widget model {i:03d}</a></h3>"
        f"<div class='rating'>★ {3 + (i % 20) / 10:.1f}</div><p class='price'>${10 + i * 3}.99</p></li>"
        for i in range(rows)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Widgets | Test Store</title></head>"
        f"<body><main><h1>Widgets</h1><ul class='results'>{cards}</ul></main></body></html>"
    )


class SiteServer:
    """A static web site on its own loopback port (a second origin besides the Smooth server), plus
    generated pages: ``/long?chars=N`` (a long article), ``/listing?rows=N`` (a product listing),
    ``/status/CODE`` (a page answering that HTTP status), ``/title?chars=N`` (a huge title),
    ``/redirect?to=URL`` (a 302 there), ``/download/NAME?bytes=N`` (a file sent as an attachment;
    ``pace=S``: slowly),
    ``/never-loads`` (an image that never arrives), ``/busy`` (requests in flight all the time),
    ``/moves-on`` (switches itself to an address that fails),
    ``/rewrites-itself`` (replaces its article with an error notice once loaded), and a site with
    a login (``LoginSite``: the form at ``/login/index.html``, ``/login/account`` behind it)."""

    def __init__(self) -> None:
        async def never_loads(request: Request) -> Response:
            # The document arrives; its image never does, so the page never fires ``load``.
            body = (
                "<html><head><title>Never loads</title></head><body><article><h1>Never loads</h1>"
                + "<p>The text of this page is here long before its image arrives, and a reader"
                " should give it to whoever asked rather than wait for the image.</p>"
                * 3
                + '<img src="/hang" alt="late"></article></body></html>'
            )
            return HTMLResponse(body)

        async def busy(request: Request) -> Response:
            # Keeps requests in flight for as long as it is open: some are always between being
            # fetched and being handed to the page.
            fetches = "fetch('/slow?s=0.02'); fetch('/slow?s=0.03');"
            script = f"<script>setInterval(() => {{ {fetches} }}, 10)</script>"
            return HTMLResponse(
                f"<html><head><title>Busy</title></head><body><p>Busy page</p>{script}</body></html>"
            )

        async def rewrites_itself(request: Request) -> Response:
            # Its script replaces the article with an error notice once loaded, as scripts that
            # fail offline do: the text the server sent is only in the document as sent.
            paragraph = (
                "<p>The harbour ferry will run every twenty minutes from the first of June, the"
                " council said on Monday, after a year of trials on the northern route.</p>"
            )
            notice = "<h2>This page is not available right now</h2><p>Try again later.</p>"
            rewrite = f"document.body.innerHTML = {notice!r};"
            script = f"<script>addEventListener('load', () => {{ {rewrite} }})</script>"
            return HTMLResponse(
                "<html><head><title>Ferry timetable</title></head><body><article><h1>Ferry timetable</h1>"
                f"{paragraph * 20}</article>{script}</body></html>"
            )

        async def moves_on(request: Request) -> Response:
            # Switches itself to https, which this plain-http server cannot answer.
            target = f"https://127.0.0.1:{request.url.port}/demo/index.html"
            script = f"<script>location.replace({target!r})</script>"
            return HTMLResponse(
                f"<html><head><title>Moving on</title>{script}</head>"
                "<body><p>Moving on, and this sentence was sent before the page left.</p></body></html>"
            )

        async def hang(request: Request) -> Response:
            # Never answers, and lets go as soon as the browser gives up on it.
            for _ in range(6000):
                if await request.is_disconnected():
                    break
                await asyncio.sleep(0.1)
            return PlainTextResponse("too late")

        async def slow(request: Request) -> Response:
            await asyncio.sleep(float(request.query_params.get("s", "2")))
            return PlainTextResponse("slow done")

        async def long(request: Request) -> Response:
            return HTMLResponse(long_article(int(request.query_params.get("chars", "180000"))))

        async def listing(request: Request) -> Response:
            return HTMLResponse(listing_page(int(request.query_params.get("rows", "20"))))

        async def download(request: Request) -> Response:
            # A file sent as an attachment (the browser saves it rather than showing it), of
            # ``bytes`` bytes (default a short text); ``declared=0`` streams it without a length,
            # and ``pace=S`` streams it too, S seconds between its 64 KiB chunks (a slow one).
            name = request.path_params["name"]
            size = int(request.query_params.get("bytes", "0"))
            body = (b"0123456789abcdef" * (size // 16 + 1))[:size] if size else f"file {name}\n".encode()
            headers = {"content-disposition": f'attachment; filename="{name}"'}
            pace = float(request.query_params.get("pace", "0"))
            if request.query_params.get("declared") == "0" or pace:

                async def chunks() -> AsyncIterator[bytes]:
                    for start in range(0, len(body), 65536):
                        if start and pace:
                            await asyncio.sleep(pace)
                        yield body[start : start + 65536]

                return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)
            return Response(body, media_type="application/octet-stream", headers=headers)

        async def redirect(request: Request) -> Response:
            return Response(status_code=302, headers={"location": request.query_params["to"]})

        async def titled(request: Request) -> Response:
            title = "Tïtle " * (int(request.query_params.get("chars", "100000")) // 6)
            return HTMLResponse(f"<html><head><title>{title}</title></head><body>hi</body></html>")

        async def status(request: Request) -> Response:
            code = int(request.path_params["code"])
            return HTMLResponse(
                f"<html><head><title>Error {code}</title></head><body>{code}</body></html>", code
            )

        self.login = LoginSite()
        app = Starlette(
            routes=[
                *self.login.routes(),
                Route("/slow", slow),
                Route("/never-loads", never_loads),
                Route("/hang", hang),
                Route("/busy", busy),
                Route("/moves-on", moves_on),
                Route("/rewrites-itself", rewrites_itself),
                Route("/long", long),
                Route("/listing", listing),
                Route("/status/{code}", status),
                Route("/title", titled),
                Route("/redirect", redirect),
                Route("/download/{name}", download),
                Mount("/demo", StaticFiles(directory=DEMO_DIR)),
                Mount("/", StaticFiles(directory=SITE_DIR)),
            ]
        )
        self._socket = bound_socket()
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, args=([self._socket],), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        while not self._server.started:
            assert self._thread.is_alive(), "the test site stopped while starting"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


# What upload.html shows of the files chosen in its file input, once it has read them (the page
# reads each file's text before it says so, some time after the choice).
FILES_CHOSEN_JS = (
    "new Promise(r => { const t = () => {"
    " const s = document.getElementById('chosen').textContent;"
    " s === 'nothing chosen' ? setTimeout(t, 20) : r(s) }; t() })"
)


class LoginSite:
    """A site with a login, as most sites have one: the form (``/login/index.html``, a static page)
    posts to ``/login/session``, which sets an HttpOnly session cookie and sends the browser to
    ``/login/account``; the account page without a valid cookie sends it back to the form.
    What happened is kept for the tests: each successful login's session token, and the token (or
    None) each request for the account page carried."""

    USERS: ClassVar[dict[str, tuple[str, str]]] = {"ada": ("correct horse battery", "Ada Lovelace")}
    COOKIE: ClassVar[str] = "sid"

    def __init__(self) -> None:
        self.sessions: dict[str, str] = {}  # token -> the user's name
        self.logins: list[str] = []  # tokens issued, in order
        self.account_visits: list[str | None] = []

    def routes(self) -> list[BaseRoute]:
        async def sign_in(request: Request) -> Response:
            form = parse_qs((await request.body()).decode())
            username = form.get("username", [""])[0]
            password = form.get("password", [""])[0]
            known = self.USERS.get(username)
            if known is None or known[0] != password:
                return RedirectResponse("/login/index.html?failed=1", status_code=303)
            token = secrets.token_hex(16)
            self.sessions[token] = known[1]
            self.logins.append(token)
            response = RedirectResponse("/login/account", status_code=303)
            response.set_cookie(self.COOKIE, token, httponly=True, samesite="lax", path="/login")
            return response

        async def account(request: Request) -> Response:
            token = request.cookies.get(self.COOKIE)
            self.account_visits.append(token)
            name = self.sessions.get(token or "")
            if name is None:
                return RedirectResponse("/login/index.html?next=account", status_code=303)
            return HTMLResponse(
                "<!doctype html><html><head><title>Your account | Login Site</title></head><body>"
                f"<main><h1>Your account</h1><p>Signed in as {name}</p>"
                "<p>Orders: none yet.</p></main></body></html>"
            )

        return [
            Route("/login/session", sign_in, methods=["POST"]),
            Route("/login/account", account),
        ]


class AppServer:
    """Any ASGI app on a loopback port, served by uvicorn (lifespan on) on a thread."""

    def __init__(self, app: Any) -> None:
        self._socket = bound_socket()
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, args=([self._socket],), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def __enter__(self) -> AppServer:
        self._thread.start()
        while not self._server.started:
            assert self._thread.is_alive(), "server thread died while starting"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)


def make_settings(tmp: Path, **overrides: Any) -> LocalServerSettings:
    options: dict[str, Any] = {
        "api_keys": frozenset({API_KEY}),
        "port": 0,
        "data_dir": tmp,
        "enable_scripted_agent": True,
        "action_timeout": 10.0,
    }
    options.update(overrides)
    return LocalServerSettings(**options)


@contextlib.contextmanager
def server_with(tmp: Path, **settings: Any) -> Iterator[httpx2.Client]:
    """A local server of its own with these settings, and an HTTP client speaking to its API.
    Tests of one limit each get one: no other limit can end a task first on a slow machine."""
    from smooth_agents.local import ThreadedServer

    with (
        ThreadedServer(make_settings(tmp, **settings)) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as client,
    ):
        yield client


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """``condition()``'s first truthy value, checked until ``timeout`` seconds have passed (the
    blocking twin of ``eventually``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.05)


async def eventually(probe: Callable[[], Awaitable[T]], timeout: float, what: str) -> T:
    """``probe()``'s first truthy value, asked again until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        await asyncio.sleep(0.02)
    return value


async def cancel_once_its_task_exists(smooth: AsyncSmoothClient, start: Callable[[], Awaitable[Any]]) -> str:
    """Start a call (``start()``: a tool call that makes one task or session on the service behind
    ``smooth``), cancel it once that task exists, and return its id."""
    before = {t.id for t in await smooth.list_tasks()}
    call = asyncio.ensure_future(start())

    async def made() -> set[str]:
        return {t.id for t in await smooth.list_tasks()} - before

    (task_id,) = await eventually(made, 30, "the call's task started")
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call
    assert call.cancelled(), "the call ended before it was cancelled"
    return task_id


async def task_ends(smooth: AsyncSmoothClient, task_id: str, status: str | None = None) -> None:
    """Wait until the task is no longer running (and, when given, has this ``status``)."""

    async def ended() -> bool:
        now = (await smooth.get_task(task_id)).status
        return now != "running" and (status is None or now == status)

    await eventually(ended, 30, f"task {task_id} ended" + (f" {status}" if status else ""))


def wait_for_event(api: httpx2.Client, task_id: str, event_id: str, timeout: float = 20) -> dict[str, Any]:
    """Poll the task until the event with this id appears; return the event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]
        for event in body.get("events") or []:
            if event["id"] == event_id:
                return dict(event)
        time.sleep(0.01)
    raise AssertionError(f"event {event_id} of {task_id} never arrived")


def wait_for_status(api: httpx2.Client, task_id: str, timeout: float = 20) -> dict[str, Any]:
    """Poll until the task leaves waiting/running; return the final task body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"/task/{task_id}")
        if response.status_code == 200:
            return dict(response.json()["r"])
        assert response.status_code == 202, response.text
        time.sleep(0.02)
    raise AssertionError(f"task {task_id} did not finish within {timeout} s")


def act(api: httpx2.Client, task_id: str, name: str, action: str, action_input: Any = None) -> dict[str, Any]:
    """Send one session action and return its result payload ({code, output})."""
    payload: dict[str, Any] = {"name": action}
    if action_input is not None:
        payload["input"] = action_input
    sent = api.post(f"/task/{task_id}/event", json={"name": name, "payload": payload})
    assert sent.status_code == 200, sent.text
    return dict(wait_for_event(api, task_id, sent.json()["r"]["id"])["payload"])


def open_session(api: httpx2.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/task", json={"task": None, **fields})
    assert response.status_code == 200, response.text
    return dict(response.json()["r"])


class HitRecorder:
    """A loopback TCP port that only counts the connections made to it: it plays a host outside a
    task's allowed_urls, and the tests assert it was never reached."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.hits = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed
                return
            self.hits += 1
            with connection:
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        """Nothing: the connection is closed unanswered."""

    def url(self, scheme: str = "http", path: str = "/") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._socket.close()


class GreetingSocketServer(HitRecorder):
    """A loopback WebSocket server that completes each handshake, sends one text message
    (``GREETING``) and closes normally: it plays a host inside a task's allowed_urls.

    A completed handshake matters: Chromium delays a renderer's new WebSockets by 1-5 s once about
    a dozen of its recent ones failed, so a test must not count on failing sockets being quick.
    """

    GREETING = "hello from an allowed host"
    _ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = dict(line.split(b":", 1) for line in request.split(b"\r\n")[1:] if b":" in line)
        key = next(
            value.strip() for name, value in headers.items() if name.strip().lower() == b"sec-websocket-key"
        )
        accept = base64.b64encode(hashlib.sha1(key + self._ACCEPT_GUID).digest())
        connection.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        text = self.GREETING.encode()
        connection.sendall(bytes([0x81, len(text)]) + text)  # one unmasked text frame (< 126 bytes)
        connection.sendall(bytes([0x88, 2]) + (1000).to_bytes(2, "big"))  # close, normal
        with contextlib.suppress(OSError):
            connection.recv(4096)  # the client's close frame, before the TCP close
