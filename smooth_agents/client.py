"""``AsyncSmoothClient``: the whole Smooth API, with tasks, sessions and custom tools.

This is the implementation; ``SmoothClient`` (``sync.py``) is a blocking facade over it.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import sys
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel, SecretStr

from .config import DEFAULT_BASE_URL, ClientConfig, resolve_config
from .custom_tools import CustomTool, ToolFunction, as_custom_tool
from .errors import APIError, NotFoundError, SmoothError
from .hand_over import DEFAULT_TIMEOUT_SECONDS as DEFAULT_HANDOFF_SECONDS
from .handles import AsyncTaskHandle, schema_of
from .http import HttpCore, Reply, api_path
from .models import Extension, Profile, Task, UploadedFile, parse_answer
from .pacing import Pacing, PollSettings
from .person import Person, PersonTools
from .polling import TaskPoller
from .protocol import Device
from .retry import RetryPolicy
from .session import AsyncSession

if TYPE_CHECKING:
    from .crawl import MappedPage
    from .crawl.results import PageResult
    from .local import EmbeddedServer
    from .shared_server import SharedLocalServer

FileInput = str | os.PathLike[str] | IO[bytes] | bytes
_notice_shown = False


def _embedded_notice(with_model: bool, where: str = "the embedded local Smooth server") -> None:
    global _notice_shown
    if not _notice_shown:
        _notice_shown = True
        agent = "a local model does plain-language tasks" if with_model else "no model: tasks need a url"
        print(
            f"smooth-agents: no SMOOTH_API_KEY set; using {where} (real Chromium, {agent}).",
            file=sys.stderr,
        )


class AsyncSmoothClient:
    """Async client for the Smooth API (or the embedded local server when no key is set).

    ``async with AsyncSmoothClient() as client:`` closes its connections (and the embedded
    server, if it started one) on exit. ``local_model`` (a LangChain chat model, or
    ``"provider:model"``) lets the embedded server's browser agent do plain-language tasks.
    ``shared_server`` (with no key): this user's shared local server, used instead of one in this
    process; the sessions opened in it outlive the client (``sessions_outlive_client``).
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx2.AsyncBaseTransport | None = None,
        poll: PollSettings | None = None,
        action_timeout: float = 300.0,
        local_model: Any = None,
        shared_server: SharedLocalServer | None = None,
    ) -> None:
        self._config: ClientConfig = resolve_config(
            api_key, base_url, timeout=timeout, max_retries=max_retries
        )
        if shared_server is not None and not self._config.embedded:
            raise ValueError("shared_server stands in for the Smooth cloud: give no API key with it.")
        self._shared_server = shared_server
        if local_model is not None and not self._config.embedded:
            raise ValueError(
                "local_model drives the embedded local server's browser agent, and this client has a "
                "Smooth API key (the cloud's agent does its tasks): drop local_model, or the key."
            )
        # The embedded server's model for plain-language tasks ("provider:model" or a chat model);
        # None: the server's own default (SMOOTH_LOCAL_MODEL, else the reader).
        self._local_model = local_model
        self._transport = transport
        self._poll = poll or PollSettings()
        # One for the client: every poller shares what was learnt of the server's pace and one
        # request budget.
        self._pacing = Pacing(self._poll)
        self._action_timeout = action_timeout
        self._http: HttpCore | None = None
        self._embedded: EmbeddedServer | None = None
        self._start_lock: asyncio.Lock | None = None
        self._handles: set[AsyncTaskHandle | AsyncSession] = set()

    def __repr__(self) -> str:
        where = "embedded local server" if self._config.embedded else self._config.api_url
        return f"AsyncSmoothClient({where})"

    @property
    def config(self) -> ClientConfig:
        """Where the client connects (the key inside is a SecretStr)."""
        return self._config

    @property
    def embedded(self) -> bool:
        return self._config.embedded

    @property
    def has_hand_back(self) -> bool:
        """True when the server's live view can be handed to a person and back (the self-hosted
        server; not the Smooth cloud)."""
        return self._config.embedded or urlsplit(self._config.base_url).hostname != _CLOUD_HOST

    @property
    def has_local_model(self) -> bool:
        """True when the embedded local server has a model for plain-language tasks (given as
        ``local_model`` or by ``SMOOTH_LOCAL_MODEL``); False with a Smooth key."""
        if not self._config.embedded:
            return False
        return self._local_model is not None or bool(os.environ.get("SMOOTH_LOCAL_MODEL", "").strip())

    @property
    def sessions_outlive_client(self) -> bool:
        """True when this client's sessions live in a shared local server: closing the client lets
        them go (they run on until closed or idle), and a later process can drive them."""
        return self._shared_server is not None

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far (benchmarks read it)."""
        return self._http.requests_sent if self._http else 0

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> AsyncSmoothClient:
        await self._connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect now rather than on the first call: with no API key this starts the embedded
        local server, a cost a caller may rather pay up front. Safe to repeat."""
        await self._connect()

    async def warm_up(self) -> None:
        """Start now what the first call would wait for: the connection and, with no API key, the
        local server and its browser (a local server process starts its browser by itself)."""
        await self._connect()
        if self._embedded is not None:
            await self._embedded.start_browser()

    async def _connect(self) -> HttpCore:
        if self._http is not None:
            return self._http
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._http is None:
                self._http = await self._open_http()
                self._http.rate_limit_listeners.append(self._pacing.budget.rate_limited)
        return self._http

    async def _open_http(self) -> HttpCore:
        retry = RetryPolicy(max_retries=self._config.max_retries)
        if self._config.api_key is not None:
            return HttpCore(
                self._config.api_url,
                self._config.api_key,
                timeout=self._config.timeout,
                retry=retry,
                transport=self._transport,
            )
        if self._shared_server is not None:
            endpoint = await self._shared_server.endpoint()
            _embedded_notice(self.has_local_model, f"the shared local Smooth server (pid {endpoint.pid})")
            return HttpCore(
                endpoint.base_url + "v1",
                SecretStr(endpoint.api_key),
                timeout=self._config.timeout,
                retry=retry,
                transport=self._transport or endpoint.transport(),
            )
        try:
            # Playwright and the server stack load on a thread: a caller's event loop (an MCP
            # server answering its host meanwhile) is not held up for the time they take.
            await asyncio.to_thread(importlib.import_module, "smooth_agents.local.server")
            from .local import EmbeddedServer
        except ImportError as exc:
            raise SmoothError(
                "No SMOOTH_API_KEY is set and the embedded local server is not installed: "
                "set SMOOTH_API_KEY, or pip install 'smooth-agents[local]'."
            ) from exc
        server = EmbeddedServer(model=self._local_model)
        _embedded_notice(server.settings.model is not None)
        await server.__aenter__()
        self._embedded = server
        return HttpCore(
            server.api_url,
            SecretStr(server.api_key),
            timeout=self._config.timeout,
            retry=retry,
            transport=self._transport or server.transport,
        )

    def _poller(
        self,
        http: HttpCore,
        task_id: str,
        snapshot: Task | None = None,
        tools: Sequence[CustomTool] = (),
        *,
        final_kind: str | None = None,
    ) -> TaskPoller:
        """A poller for one task, sharing this client's poll settings and pacing."""
        return TaskPoller(
            http,
            task_id,
            tools={t.name: t for t in tools},
            settings=self._poll,
            snapshot=snapshot,
            pacing=self._pacing,
            final_kind=final_kind,
        )

    def _track(self, handle: AsyncTaskHandle | AsyncSession, poller: TaskPoller) -> None:
        """Remember a live handle for close(); forget it once its task has ended."""
        self._handles.add(handle)
        poller.on_final.append(lambda: self._handles.discard(handle))

    async def close(self) -> None:
        """Stop following tasks, close connections and the embedded server, if any."""
        for handle in list(self._handles):
            if isinstance(handle, AsyncSession) and self.sessions_outlive_client:
                await handle.let_go()
            elif isinstance(handle, AsyncSession) and not handle.closed:
                with suppress(SmoothError):
                    await handle.close()
            elif isinstance(handle, AsyncTaskHandle):
                await handle.aclose()
        self._handles.clear()
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        embedded, self._embedded = self._embedded, None
        if embedded is not None:
            await embedded.__aexit__(None, None, None)

    # -- tasks ----------------------------------------------------------------------------
    async def run(
        self,
        task: str,
        *,
        url: str | None = None,
        response_model: dict[str, Any] | type[BaseModel] | None = None,
        metadata: Mapping[str, str | int | float | bool] | None = None,
        files: Sequence[str] | None = None,
        agent: str = "smooth",
        max_steps: int = 32,
        device: Device = "desktop",
        allowed_urls: Sequence[str] | None = None,
        enable_recording: bool = True,
        profile_id: str | None = None,
        profile_read_only: bool = False,
        proxy_server: str | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        use_adblock: bool | None = True,
        additional_tools: Mapping[str, Mapping[str, Any] | None] | None = None,
        custom_tools: Sequence[CustomTool | ToolFunction] | None = None,
        experimental_features: Mapping[str, Any] | None = None,
        extensions: Sequence[str] | None = None,
        person: Person | None = None,
        handoff_timeout: float = DEFAULT_HANDOFF_SECONDS,
    ) -> AsyncTaskHandle:
        """Start a one-shot task; ``await handle.result()`` for its output.

        ``person`` (``PersonCallbacks``, or a surface's own) lets the task's agent reach the person
        behind the call: ``ask_person`` where it can ask them, and, on the self-hosted server,
        ``hand_over`` to give them the browser at the live view (for up to ``handoff_timeout``
        seconds). They are offered until the task ends or the handle is closed."""
        tools = [as_custom_tool(t) for t in custom_tools or ()]
        reach = None
        if person is not None:
            reach = PersonTools(person, hand_over=self.has_hand_back, handoff_timeout=handoff_timeout)
            tools += _without_clash(tools, reach.tools())
        body: dict[str, Any] = {
            "task": task,
            "url": url,
            "response_model": schema_of(response_model),
            "metadata": dict(metadata) if metadata else None,
            "files": list(files) if files else None,
            "agent": agent,
            "max_steps": max_steps,
            "device": device,
            "allowed_urls": list(allowed_urls) if allowed_urls else None,
            "enable_recording": enable_recording,
            "profile_id": profile_id,
            "profile_read_only": profile_read_only,
            "proxy_server": proxy_server,
            "proxy_username": proxy_username,
            "proxy_password": proxy_password,
            "use_adblock": use_adblock,
            "additional_tools": dict(additional_tools) if additional_tools else None,
            "custom_tools": [t.signature() for t in tools] or None,
            "experimental_features": dict(experimental_features) if experimental_features else None,
            "extensions": list(extensions) if extensions else None,
        }
        http = await self._connect()
        submitted = await self._create(http, body)
        poller = self._poller(http, submitted.id, submitted, tools, final_kind="task")
        handle = AsyncTaskHandle(http, poller, submitted, response_model, person_tools=reach)
        if reach is not None:
            reach.started(submitted.live_url)
        self._track(handle, poller)
        poller.kick()
        return handle

    async def _create(self, http: HttpCore, body: Mapping[str, Any]) -> Task:
        """POST /task. A caller cancelled while it is under way holds no handle, yet the task or
        session may already exist remotely, where it would run on with nobody to end it: its
        answer is still read and that task cancelled before the cancellation goes on."""
        creating = asyncio.ensure_future(http.request("POST", "/task", json=body))
        try:
            reply = await asyncio.shield(creating)
        except asyncio.CancelledError:
            await http.unstoppable(self._cancel_created(creating))
            raise
        return parse_answer(Task, reply.value, "POST /task")

    async def _cancel_created(self, creating: asyncio.Future[Reply]) -> None:
        try:
            created = parse_answer(Task, (await creating).value, "POST /task")
        except Exception:  # the caller was cancelled: a failure here is no longer theirs
            return  # not created (or no answer said so): nothing to end
        with suppress(SmoothError):
            await self.cancel_task(created.id)

    def task(self, task_id: str) -> AsyncTaskHandle:
        """A handle on an existing task (for example one started by another process)."""
        if self._http is None:
            raise SmoothError(
                "Connect first: use the client as a context manager or call connect() before task()."
            )
        poller = self._poller(self._http, task_id)
        handle = AsyncTaskHandle(self._http, poller, Task(id=task_id, status="running"))
        self._track(handle, poller)
        return handle

    async def get_task(self, task_id: str, *, event_t: int | None = None, downloads: bool = False) -> Task:
        """A task's state; ``downloads`` asks for its ``downloads_url`` too (the archive of the
        files it downloaded, given once it has ended)."""
        params: dict[str, Any] = {"event_t": event_t} if event_t is not None else {}
        if downloads:
            params["downloads"] = "true"
        http = await self._connect()
        reply = await http.request("GET", api_path("task", task_id), params=params or None)
        return parse_answer(Task, reply.value, f"GET /task/{task_id}")

    async def list_tasks(self, *, limit: int | None = None, since: int | None = None) -> list[Task]:
        params = {k: v for k, v in {"l": limit, "t": since}.items() if v is not None}
        http = await self._connect()
        value = (await http.request("GET", "/task", params=params or None)).value
        return [parse_answer(Task, t, "GET /task") for t in _listed(value, "GET /task")]

    async def cancel_task(self, task_id: str) -> bool:
        """Cancel a task or session; False when it had already ended."""
        http = await self._connect()
        try:
            await http.request("DELETE", api_path("task", task_id))
        except NotFoundError as error:
            if not error.resent:
                return False
            # An earlier attempt may have cancelled it before the connection broke: a task that
            # now stands cancelled was this call's doing as far as anyone can tell.
            try:
                return (await self.get_task(task_id)).status == "cancelled"
            except NotFoundError:
                return False
        return True

    # -- sessions -------------------------------------------------------------------------
    def session(
        self,
        *,
        url: str | None = None,
        profile_id: str | None = None,
        profile_read_only: bool = False,
        device: Device = "desktop",
        allowed_urls: Sequence[str] | None = None,
        files: Sequence[str] | None = None,
        custom_tools: Sequence[CustomTool | ToolFunction] | None = None,
        proxy_server: str | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> _SessionOpener:
        """Open a browser session: ``async with client.session(url=...) as s:`` (or ``await``).
        ``metadata`` goes with the session's task, as with ``run``."""
        options: dict[str, Any] = {
            "task": None,
            "metadata": dict(metadata) if metadata else None,
            "url": url,
            "profile_id": profile_id,
            "profile_read_only": profile_read_only,
            "device": device,
            "allowed_urls": list(allowed_urls) if allowed_urls else None,
            "files": list(files) if files else None,
            "proxy_server": proxy_server,
            "proxy_username": proxy_username,
            "proxy_password": proxy_password,
        }
        tools = [as_custom_tool(t) for t in custom_tools or ()]
        return _SessionOpener(self, options, tools)

    async def open_session(
        self, options: Mapping[str, Any], tools: Sequence[CustomTool] = ()
    ) -> AsyncSession:
        body = {**options, "custom_tools": [t.signature() for t in tools] or None}
        http = await self._connect()
        opened = await self._create(http, body)
        poller = self._poller(http, opened.id, opened, tools, final_kind="session_end")
        session = AsyncSession(http, poller, opened, action_timeout=self._action_timeout)
        self._track(session, poller)
        return session

    async def attach_session(self, session_id: str) -> AsyncSession:
        """A handle on a session opened elsewhere (another process or replica)."""
        http = await self._connect()
        current = parse_answer(
            Task, (await http.request("GET", api_path("task", session_id))).value, "GET /task"
        )
        poller = self._poller(http, current.id, current, final_kind="session_end")
        session = AsyncSession(http, poller, current, action_timeout=self._action_timeout)
        self._track(session, poller)
        return session

    # -- many pages -----------------------------------------------------------------------
    # Async generators over browser sessions of this client (``crawl/runner.py``): use them as
    # ``async with contextlib.aclosing(client.crawl(url)) as pages: async for page in pages``.
    # Pages come as they finish; closing the iterator (or cancelling) stops the work and closes
    # every session it opened. The arguments are checked here, before anything is opened.

    def map(
        self,
        url: str,
        *,
        limit: int = 100,
        max_depth: int | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        respect_robots: bool = True,
        same_host: bool = True,
        concurrency: int | None = None,
    ) -> AsyncGenerator[MappedPage, None]:
        """The pages of the site at ``url``: the links its rendered pages show, its sitemaps
        (sitemap indexes, the Sitemap lines of robots.txt), URLs normalised (fragments and
        tracking parameters dropped, redirects resolved to where they land, duplicates merged).

        ``limit``: pages given at most (failed ones included). ``max_depth``: links followed from
        ``url`` at most (sitemap pages count as depth 1). ``include`` / ``exclude``: URL globs as
        ``allowed_urls`` reads them (``**/products/**``). ``respect_robots=False`` ignores
        robots.txt (an explicit opt-out). ``same_host``: stay on ``url``'s host; a redirect off
        it is that page's failure and the other host is never contacted. ``concurrency``:
        browser sessions at once (default: one per core, at most four); when the server will not
        open more (429), the work goes on with those open. A page's failure is its ``error``.
        """
        from .crawl.runner import check_concurrency, map_pages, site_mapper

        size = check_concurrency(concurrency)
        mapper = site_mapper(
            url,
            limit=limit,
            max_depth=max_depth,
            include=include,
            exclude=exclude,
            respect_robots=respect_robots,
            same_host=same_host,
            pool_size=size,
        )
        return map_pages(self, mapper, size)

    def crawl(
        self,
        url: str,
        *,
        limit: int = 50,
        max_depth: int | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        response_model: type[BaseModel] | dict[str, Any] | None = None,
        respect_robots: bool = True,
        same_host: bool = True,
        concurrency: int | None = None,
        prompt: str | None = None,
    ) -> AsyncGenerator[PageResult, None]:
        """The pages ``map`` reaches (same rules and arguments), each read: as markdown (the
        reader: its main content; needs the ``local`` extra) or, with ``response_model`` (a JSON
        object schema or a pydantic model class), as the data the server's ``extract`` finds on
        it, as ``smooth_extract`` reads one page (``prompt`` guides it). A ``PageResult`` per
        page as it finishes; a page that fails (an error status, a timeout, data the page does
        not have) is that result's ``error``, and its links are still followed when it loaded.
        """
        from .crawl.runner import check_concurrency, check_reader, crawl_pages, object_schema, site_mapper

        size = check_concurrency(concurrency)
        if response_model is None:
            check_reader()
        else:
            object_schema(response_model)
        mapper = site_mapper(
            url,
            limit=limit,
            max_depth=max_depth,
            include=include,
            exclude=exclude,
            respect_robots=respect_robots,
            same_host=same_host,
            pool_size=size,
        )
        return crawl_pages(self, mapper, size, response_model, prompt)

    def extract_many(
        self,
        urls: Sequence[str],
        schema: type[BaseModel] | dict[str, Any],
        *,
        concurrency: int | None = None,
        prompt: str | None = None,
    ) -> AsyncGenerator[PageResult, None]:
        """Data shaped by ``schema`` (a JSON object schema or a pydantic model class) from each of
        ``urls``, read in browser sessions ``concurrency`` at a time, as ``smooth_extract`` reads
        one page; results in the order the pages finish, one per URL. A page that fails (cannot
        load, answers an error status, lacks what the schema requires) is that result's
        ``error``."""
        from .crawl.runner import check_concurrency, checked_urls, extract_pages, object_schema

        size = check_concurrency(concurrency)
        given = checked_urls(urls)
        object_schema(schema)
        return extract_pages(self, given, schema, size, prompt)

    # -- profiles -------------------------------------------------------------------------
    async def create_profile(self, profile_id: str | None = None) -> Profile:
        http = await self._connect()
        reply = await http.request("POST", "/profile", json={"id": profile_id})
        return parse_answer(Profile, reply.value, "POST /profile")

    async def list_profiles(self) -> list[Profile]:
        http = await self._connect()
        listed = _listed((await http.request("GET", "/profile")).value, "GET /profile")
        return [parse_answer(Profile, p, "GET /profile") for p in listed]

    async def delete_profile(self, profile_id: str) -> None:
        http = await self._connect()
        await http.request("DELETE", api_path("profile", profile_id))

    # -- files and extensions ---------------------------------------------------------------
    async def upload_file(
        self, file: FileInput, *, name: str | None = None, purpose: str | None = None
    ) -> UploadedFile:
        """Upload a file (a path, an open binary file or bytes) for tasks to use."""
        filename, content = _read_upload(file, name)
        data = {"file_purpose": purpose} if purpose is not None else None
        http = await self._connect()
        reply = await http.request("POST", "/file", files={"file": (filename, content)}, data=data)
        return parse_answer(UploadedFile, reply.value, "POST /file")

    async def delete_file(self, file_id: str) -> None:
        http = await self._connect()
        await http.request("DELETE", api_path("file", file_id))

    async def upload_extension(self, file: FileInput, *, name: str | None = None) -> Extension:
        filename, content = _read_upload(file, name)
        http = await self._connect()
        reply = await http.request("POST", "/extension", files={"file": (filename, content)})
        return parse_answer(Extension, reply.value, "POST /extension")

    async def list_extensions(self) -> list[Extension]:
        http = await self._connect()
        listed = _listed((await http.request("GET", "/extension")).value, "GET /extension")
        return [parse_answer(Extension, e, "GET /extension") for e in listed]

    async def delete_extension(self, extension_id: str) -> None:
        http = await self._connect()
        await http.request("DELETE", api_path("extension", extension_id))


_CLOUD_HOST = urlsplit(DEFAULT_BASE_URL).hostname


def _without_clash(given: Sequence[CustomTool], added: Sequence[CustomTool]) -> list[CustomTool]:
    """``added`` (the person's tools), refused when one of ``given`` already has its name."""
    taken = {t.name for t in given} & {t.name for t in added}
    if taken:
        raise ValueError(
            f"custom_tools already has {sorted(taken)}: the person's tools use these names "
            "(drop them from custom_tools, or do not pass person)."
        )
    return list(added)


def _listed(value: Any, what: str) -> list[Any]:
    """A list answer (null counts as empty); anything else is a bad answer."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise APIError(f"unexpected answer to {what} (a list was expected)", status_code=200)
    return value


def _read_upload(file: FileInput, name: str | None) -> tuple[str, bytes]:
    if isinstance(file, bytes):
        if not name:
            raise ValueError("Give name=... when uploading bytes.")
        return name, file
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        return name or path.name, path.read_bytes()
    if isinstance(file, io.IOBase) or hasattr(file, "read"):
        content = file.read()
        if not isinstance(content, bytes):
            raise TypeError("Open the file in binary mode ('rb').")
        default = Path(str(getattr(file, "name", "upload.bin"))).name
        return name or default, content
    raise TypeError(f"Cannot upload {file!r}: pass a path, an open binary file or bytes.")


class _SessionOpener(AbstractAsyncContextManager[AsyncSession]):
    """What ``client.session()`` returns: awaitable, or an async context manager that closes."""

    def __init__(self, client: AsyncSmoothClient, options: dict[str, Any], tools: list[CustomTool]) -> None:
        self._client = client
        self._options = options
        self._tools = tools
        self._session: AsyncSession | None = None

    def __await__(self) -> Generator[Any, None, AsyncSession]:
        return self._client.open_session(self._options, self._tools).__await__()

    async def __aenter__(self) -> AsyncSession:
        self._session = await self._client.open_session(self._options, self._tools)
        return self._session

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close(force=exc_type is not None)
