"""This user's shared local server: ``python -m smooth_agents.local.shared`` (the server's side; the
client's is ``smooth_agents.shared_server``, which starts it, never a person).

The process leaves its starter's session at once (its starter reaps it and goes on), reads its API
key from the first line of stdin (never from its arguments, which any user of the machine can
read), serves the Smooth API on a free loopback port, starts Chromium at once, and, once it
listens, writes one JSON line to stdout, ``{"port": N, "pid": P}``, for the starter to write into
the state file. It answers the key proof (``protocol.KEY_PROOF_PATH``), so that a process reading
the state file can tell it from whatever else might hold its port.

It ends after ``--idle-timeout`` seconds without a request, a live view or a task, and at once on
SIGTERM or SIGINT, closing every task and the browser, and removing the state file on the way out
if the file still names it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import string
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from ..cancellation import cancel_and_wait
from ..protocol import KEY_PROOF_PATH, key_proof

log = logging.getLogger("smooth_agents.local")

IDLE_CHECK_SECONDS = 1.0
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m smooth_agents.local.shared",
        description="This user's shared local Smooth server (started by smooth_agents.shared_server; "
        "the API key is read from the first line of stdin).",
    )
    parser.add_argument("--state-file", type=Path, required=True, help="the state file naming it")
    parser.add_argument("--lock-file", type=Path, required=True, help="the lock its starters take")
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="seconds idle before it ends")
    parser.add_argument("--session-idle-timeout", type=float, help="seconds an idle session lives")
    parser.add_argument("--model", help="provider:model for plain-language tasks")
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _detach()
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format=LOG_FORMAT)
    key = sys.stdin.buffer.readline().decode().strip()
    if not key:
        print("smooth_agents.local.shared: no API key on the first line of stdin", file=sys.stderr)
        return 2
    asyncio.run(serve(args, key))
    return 0


def _detach() -> None:
    """Leave the starter: it reaps its child at once (no zombie, no warning about a child still
    running), and this server lives on in a session of its own, out of reach of the signals the
    starter's terminal sends. Called before any thread starts (POSIX: the client side starts a
    shared server on POSIX systems only)."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()


class ActivityMeter:
    """ASGI middleware: the requests and sockets (live views) in flight, and when one was last seen."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.in_flight = 0
        self.last_seen = time.monotonic()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        self.last_seen = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.last_seen = time.monotonic()


class KeyProof:
    """The key proof's answer; refused once the server is ending, since a client that trusted it
    then would find it gone a moment later."""

    def __init__(self, key: str) -> None:
        self._key = key
        self.ending = False

    async def answer(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        nonce = request.query_params.get("nonce", "")
        if not 16 <= len(nonce) <= 128 or not set(nonce) <= set(string.hexdigits):
            return JSONResponse({"detail": "nonce: 16 to 128 hex digits"}, status_code=400)
        if self.ending:
            return JSONResponse({"detail": "The shared local server is ending."}, status_code=503)
        return JSONResponse({"proof": key_proof(self._key, nonce)})


async def serve(args: argparse.Namespace, key: str) -> None:
    # Chromium first: the driver and the browser start while the rest of the server loads.
    from .browser.chromium import BrowserProvider
    from .settings import LocalServerSettings

    settings = LocalServerSettings(api_keys=frozenset({key}))
    if args.session_idle_timeout:
        settings.session_idle_timeout = args.session_idle_timeout
    if args.model:
        settings.model = args.model
    browsers = BrowserProvider(
        executable=settings.browser_executable,
        ws_endpoint=settings.browser_ws_endpoint,
        cdp_endpoint=settings.browser_cdp_endpoint,
        headless=settings.headless,
        spare=settings.spare_context,
    )
    warming = asyncio.create_task(browsers.browser(), name="smooth-browser-warm-up")
    warming.add_done_callback(_report_warm_up)
    # The app, the runtime and the extraction stack load on a thread, so the browser's start
    # (driven by this loop) goes on meanwhile.
    await asyncio.to_thread(importlib.import_module, "smooth_agents.local.server")
    from starlette.routing import Route

    from .app import create_app
    from .server import bound_socket  # loaded above, on the thread
    from .tasks.runtime import LocalRuntime

    listener = bound_socket()  # TCP, so each connection sends without waiting for ACKs
    settings.port = listener.getsockname()[1]
    settings.public_url = f"http://127.0.0.1:{settings.port}"
    runtime = LocalRuntime(settings, browser_provider=browsers)
    app = create_app(settings, runtime=runtime)
    proof = KeyProof(key)
    app.router.routes.insert(0, Route(KEY_PROOF_PATH, proof.answer))
    meter = ActivityMeter(app)
    server, serving = await _listen(meter, listener)
    if server is None:
        return
    _tell_starter({"port": settings.port, "pid": os.getpid()})
    log.info("local server ready at %s (pid %d)", settings.public_url, os.getpid())

    stop = asyncio.Event()
    _stop_on_signals(stop)
    watchdog = asyncio.create_task(_stop_when_idle(meter, runtime.active_count, args.idle_timeout, stop))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({stopped, serving}, return_when=asyncio.FIRST_COMPLETED)
    await cancel_and_wait(stopped)
    proof.ending = True
    await asyncio.to_thread(_forget_state_file, args.state_file, args.lock_file)
    await cancel_and_wait(watchdog)
    await cancel_and_wait(warming)
    server.should_exit = True
    await serving


async def _listen(app: Any, listener: socket.socket) -> tuple[Any, asyncio.Task[None]]:
    """uvicorn serving ``app`` on ``listener`` (the app's lifespan, and so the runtime, started),
    once it listens; (None, the task) when it failed to start, its failure raised from the task."""
    import uvicorn

    from .server import _GuestServer

    listening = asyncio.Event()

    class Server(_GuestServer):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                listening.set()

    server = Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[listener]), name="smooth-shared-server")
    started = asyncio.create_task(listening.wait())
    await asyncio.wait({started, serving}, return_when=asyncio.FIRST_COMPLETED)
    await cancel_and_wait(started)
    if not listening.is_set():
        serving.result()  # its failure, raised here
        return None, serving
    return server, serving


def _report_warm_up(warming: asyncio.Task[Any]) -> None:
    """The browser's early start failing is reported by the first task that needs it (it tries
    again, and says why); here it is only logged."""
    if not warming.cancelled() and warming.exception() is not None:
        log.info("the browser did not start ahead of the first task: %s", warming.exception())


def _tell_starter(ready: dict[str, Any]) -> None:
    """The one line the starter waits for; stdout then points at the null device, so that nothing
    written later can block on, or break with, a pipe nobody reads."""
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stopping, stop.set)


async def _stop_when_idle(
    meter: ActivityMeter, active_tasks: Callable[[], int], idle_timeout: float, stop: asyncio.Event
) -> None:
    busy_at = time.monotonic()
    while True:
        await asyncio.sleep(min(IDLE_CHECK_SECONDS, idle_timeout / 4))
        now = time.monotonic()
        if meter.in_flight or active_tasks():
            busy_at = now
        elif now - max(busy_at, meter.last_seen) >= idle_timeout:
            log.info("shared local server idle for %.0f s: ending", idle_timeout)
            stop.set()
            return


def _forget_state_file(state_file: Path, lock_file: Path) -> None:
    """Remove the state file if it still names this process (a starter may have replaced it with
    a newer server's), under the starters' lock so that no replacement lands in between."""
    with _locked(lock_file):
        try:
            named = json.loads(state_file.read_text(encoding="utf-8")).get("pid")
        except (OSError, ValueError, AttributeError):
            return
        if named == os.getpid():
            with contextlib.suppress(OSError):
                state_file.unlink()


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    import fcntl

    try:
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # a starter stuck holding it: removing a file of ours is still right
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


if __name__ == "__main__":
    raise SystemExit(main())
