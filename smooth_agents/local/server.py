"""Ways to run the local server: in process (an ASGI transport, no port), or on loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import socket
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx2
import uvicorn

from ..cancellation import wait_for_end
from .agents.seam import AgentSelector
from .app import create_app
from .settings import LocalServerSettings
from .tasks.runtime import LocalRuntime

log = logging.getLogger("smooth_agents.local")

# Host name the in-process transport uses; it never reaches a network.
EMBEDDED_HOST = "smooth-local.invalid"


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, for a server in another process (which binds it later: something else
    may take it meanwhile). A server in this process binds ``bound_socket()`` instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def bound_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to ``host:port`` (a free port when 0), for uvicorn's ``serve(sockets=...)``:
    the port is held from the moment it is chosen, so nothing can take it before the server
    listens."""
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections whose socket says TCP, and with it on each answer waited some 40 ms for an ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _GuestServer(uvicorn.Server):
    """A uvicorn server running inside someone else's program: it leaves their signals alone
    (plain uvicorn takes over Ctrl-C while it serves from the main thread)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedServer:
    """The local server inside the current event loop, reached through an ASGI transport.

    ``async with EmbeddedServer() as server:`` then
    ``httpx2.AsyncClient(transport=server.transport, base_url=server.api_url)`` with the
    ``apikey`` header set to ``server.api_key``.
    """

    def __init__(
        self,
        settings: LocalServerSettings | None = None,
        *,
        agent_selector: AgentSelector | None = None,
        live_view: bool = True,
        model: Any = None,
    ) -> None:
        # A copy: the caller's settings object is never written to. ``model`` (a chat model or
        # "provider:model") overrides the settings' own.
        settings = dataclasses.replace(settings or LocalServerSettings())
        if model is not None:
            settings.model = model
        if not settings.api_keys:
            settings.api_keys = frozenset({LocalServerSettings.generate_api_key()})
        settings.allowed_hosts = settings.allowed_hosts | {EMBEDDED_HOST}
        self.settings = settings
        self.runtime = LocalRuntime(settings, agent_selector=agent_selector)
        self.app = create_app(settings, runtime=self.runtime, manage_runtime=False)
        self.transport = httpx2.ASGITransport(app=self.app)
        self.base_url = f"http://{EMBEDDED_HOST}/api/"
        self.api_url = f"http://{EMBEDDED_HOST}/api/v1"
        # API calls stay in process; a person watching a live view needs a real address, so the
        # same app also listens on a loopback port (same loop, no extra thread).
        self._live_view = live_view
        self._listener: _GuestServer | None = None
        self._listening: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def api_key(self) -> str:
        return next(iter(self.settings.api_keys))

    async def __aenter__(self) -> EmbeddedServer:
        await self.runtime.start()
        if self._live_view:
            sock = self._socket = bound_socket()
            self.settings.public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
            self._listener = _GuestServer(config)
            self._listening = asyncio.create_task(
                self._listener.serve(sockets=[sock]), name="smooth-embedded-live-view"
            )
        log.info("embedded local server ready")
        return self

    async def start_browser(self) -> None:
        """Launch the browser now rather than for the first task (which would wait for it)."""
        await self.runtime.browsers.browser()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._listener is not None and self._listening is not None:
            self._listener.should_exit = True
            await wait_for_end(self._listening)
        if self._socket is not None:
            # uvicorn closes the sockets it served, but not when told to stop before it began.
            self._socket.close()
        await self.runtime.aclose()


class ThreadedServer:
    """The local server on a loopback port, served by uvicorn on a thread of its own.

    Used by tests, benchmarks and sync programs that need a real HTTP endpoint without a
    second process. The port is held from construction; ``stop()`` runs the app's shutdown, which
    closes every browser, and gives the port back (``with ThreadedServer(...)`` does both).
    """

    def __init__(
        self,
        settings: LocalServerSettings,
        *,
        agent_selector: AgentSelector | None = None,
    ) -> None:
        # The port is held from here (a free one when the settings say 0), and the settings are a
        # copy that names it (the caller's are never written to).
        self._socket = bound_socket(settings.host, settings.port)
        settings = dataclasses.replace(settings, port=self._socket.getsockname()[1])
        self.settings = settings
        try:
            self.app = create_app(settings, agent_selector=agent_selector)
        except BaseException:  # settings refused: the port is let go at once
            self._socket.close()
            raise
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self._thread = threading.Thread(target=self._serve, name="smooth-local-server", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def runtime(self) -> LocalRuntime:
        runtime: LocalRuntime = self.app.state.runtime
        return runtime

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}/api/"

    @property
    def api_url(self) -> str:
        return self.base_url + "v1"

    def _serve(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            self.loop.close()
            self._socket.close()

    def start(self, timeout: float = 30.0) -> ThreadedServer:
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("The local server thread stopped while starting; see the log.")
            if waited > timeout:
                raise TimeoutError(f"The local server did not start within {timeout} s.")
            threading.Event().wait(0.02)
            waited += 0.02
        return self

    def call(self, coroutine: Any, timeout: float = 60.0) -> Any:
        """Run a coroutine on the server's loop (for tests and benchmarks)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        else:
            self._socket.close()  # never served (uvicorn closes the sockets it served)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __del__(self) -> None:
        # Made and never started: its port is held from the start, and given back when forgotten.
        sock = getattr(self, "_socket", None)
        thread = getattr(self, "_thread", None)
        if sock is not None and (thread is None or not thread.is_alive()):
            sock.close()


class RedactTokens(logging.Filter):
    """Keeps the live views' per-task tokens out of the logs (a token opens a live view)."""

    _TOKEN = re.compile(r"(token=)[^&\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def serve(settings: LocalServerSettings, *, log_level: str = "info") -> None:
    """Serve until interrupted (the CLI's ``local serve``)."""
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    # uvicorn logs each WebSocket (the live view's socket, token in its query) on this logger.
    logging.getLogger("uvicorn.error").addFilter(RedactTokens())
    app = create_app(settings)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, lifespan="on")
