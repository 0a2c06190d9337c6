"""Limits and hygiene: concurrent sessions, idle timeout, task duration, shutdown, embedding."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import psutil
import pytest

from smooth_agents.local import EmbeddedServer, LocalServerSettings
from smooth_agents.local.server import free_port
from tests.helpers import SiteServer, act, make_settings, open_session, server_with, wait_for_status


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    with server_with(tmp_path_factory.mktemp("limited"), max_concurrent_sessions=2) as client:
        yield client


@pytest.fixture(scope="module")
def idle_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    with server_with(tmp_path_factory.mktemp("idle"), session_idle_timeout=2.0) as client:
        yield client


@pytest.fixture(scope="module")
def duration_limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    with server_with(tmp_path_factory.mktemp("duration"), max_task_duration=4.0) as client:
        yield client


def test_concurrent_session_limit_is_429(limited: httpx2.Client) -> None:
    first, second = open_session(limited), open_session(limited)
    refused = limited.post("/task", json={"task": None})
    assert refused.status_code == 429
    assert "limit" in refused.json()["detail"]
    limited.delete(f"/task/{first['id']}")
    third = open_session(limited)
    for task in (second, third):
        limited.delete(f"/task/{task['id']}")


def test_idle_sessions_are_closed(idle_limited: httpx2.Client) -> None:
    session = open_session(idle_limited)
    act(idle_limited, session["id"], "browser_action", "evaluate_js", {"js": "1"})
    final = wait_for_status(idle_limited, session["id"], timeout=10)
    assert final["status"] == "done"
    assert "idle timeout" in final["output"]


def test_tasks_past_the_maximum_duration_fail(duration_limited: httpx2.Client) -> None:
    task = duration_limited.post(
        "/task", json={"task": 'script:[{"action": "sleep", "seconds": 60}]'}
    ).json()["r"]
    final = wait_for_status(duration_limited, task["id"], timeout=15)
    assert final["status"] == "failed"
    assert "maximum duration" in final["output"]


def _chromium_children(pid: int) -> list[psutil.Process]:
    browsers = []
    for process in psutil.Process(pid).children(recursive=True):
        try:
            command = process.name() + " ".join(process.cmdline())
        except psutil.NoSuchProcess:  # includes a zombie: a helper that already exited
            continue
        if "chrom" in command:
            browsers.append(process)
    return browsers


@contextlib.contextmanager
def cli_server(tmp_path: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`smooth-agents local serve` as a real subprocess; yields it and its API base URL."""
    port = free_port()
    command = [sys.executable, "-m", "smooth_agents.cli", "local", "serve", "--port", str(port)]
    command += ["--data-dir", str(tmp_path), *extra]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx2.get(base + "/task", timeout=5)
                break
            except httpx2.TransportError:
                assert server.poll() is None, "server exited while starting"
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.05)
        yield server, base
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serve_shuts_down_cleanly_without_orphaned_chromium(
    tmp_path: Path, site: SiteServer, stop_signal: signal.Signals
) -> None:
    with cli_server(tmp_path, "--log-level", "warning") as (server, base):
        assert server.stderr is not None
        lines = [server.stderr.readline() for _ in range(2)]
        key = lines[1].rsplit(" ", 1)[-1].strip()
        assert key.startswith("sk-local-"), lines
        with httpx2.Client(base_url=base, headers={"apikey": key}, timeout=30) as client:
            session = open_session(client, url=site.url("demo/index.html"))
            assert act(client, session["id"], "browser_action", "evaluate_js", {"js": "1 + 1"})["code"] == 200
        browsers = _chromium_children(server.pid)
        assert browsers, "expected a running Chromium under the server"
        server.send_signal(stop_signal)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.wait(timeout=30) in (0, -stop_signal)
        assert "Traceback" not in server.stderr.read()
        _gone, alive = psutil.wait_procs(browsers, timeout=10)
        assert not alive, f"orphaned browser processes: {[p.pid for p in alive]}"


def test_live_view_tokens_never_reach_the_access_log(tmp_path: Path, site: SiteServer) -> None:
    with cli_server(tmp_path, "--api-key", "sk-log-test-1234", "--log-level", "info") as (server, base):
        with httpx2.Client(base_url=base, headers={"apikey": "sk-log-test-1234"}, timeout=30) as client:
            session = open_session(client, url=site.url("demo/index.html"))
            token = session["live_url"].split("token=")[1].split("&")[0]
            assert httpx2.get(session["live_url"], timeout=30).status_code == 200
            client.delete(f"/task/{session['id']}")
        server.terminate()
        server.wait(30)
        assert server.stdout is not None
        assert server.stderr is not None
        log = server.stdout.read() + server.stderr.read()  # uvicorn's access log goes to stdout
    assert "/live/" in log  # the request was logged...
    assert "token=[redacted]" in log
    assert token not in log  # ...without its token


def test_api_keys_never_reach_the_log(tmp_path: Path, site: SiteServer) -> None:
    secret, wrong = "sk-very-secret-4242", "sk-wrong-guess-1717"
    with cli_server(tmp_path, "--api-key", secret, "--log-level", "debug") as (server, base):
        assert httpx2.get(base + "/task", headers={"apikey": wrong}).status_code == 401
        with httpx2.Client(base_url=base, headers={"apikey": secret}, timeout=30) as client:
            session = open_session(client, url=site.url("demo/index.html"))
            act(client, session["id"], "browser_action", "evaluate_js", {"js": "1"})
            client.delete(f"/task/{session['id']}")
        server.terminate()
        server.wait(30)
        assert server.stderr is not None
        log = server.stderr.read()
    assert "local server on" in log
    assert secret not in log
    assert wrong not in log


async def test_embedded_server_in_process(site: SiteServer, tmp_path: Path) -> None:
    async with EmbeddedServer(LocalServerSettings(data_dir=tmp_path)) as server:
        assert server.runtime.browsers.started is False  # the browser starts on first use
        headers = {"apikey": server.api_key}
        async with httpx2.AsyncClient(
            transport=server.transport, base_url=server.api_url, headers=headers
        ) as client:
            opened = await client.post("/task", json={"task": None, "url": site.url("demo/index.html")})
            assert opened.status_code == 200
            task_id = opened.json()["r"]["id"]
            sent = await client.post(
                f"/task/{task_id}/event",
                json={
                    "name": "browser_action",
                    "payload": {"name": "evaluate_js", "input": {"js": "location.pathname"}},
                },
            )
            event_id = sent.json()["r"]["id"]
            deadline = time.monotonic() + 30
            while not (
                events := (await client.get(f"/task/{task_id}", params={"event_t": 0})).json()["r"]["events"]
            ):
                assert time.monotonic() < deadline, "no answer to the action within 30 s"
                await asyncio.sleep(0.01)
            assert events[0]["id"] == event_id
            assert events[0]["payload"]["output"]["output"] == "/demo/index.html"
            assert (await client.get("/task", headers={"apikey": "wrong"})).status_code == 401
    assert server.runtime.browsers.started is False  # closed on exit


def test_embedded_server_leaves_ctrl_c_to_the_host_program() -> None:
    # The program takes Ctrl-C as an interactive one does: a shell running the tests in the
    # background starts them with SIGINT ignored, and Python then installs no handler of its own.
    program = (
        "import asyncio, os, signal\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from smooth_agents.local import EmbeddedServer\n"
        "async def main():\n"
        "    async with EmbeddedServer() as server:\n"
        "        assert server.settings.public_url.startswith('http://127.0.0.1:')\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        await asyncio.sleep(10)\n"
        "try:\n"
        "    asyncio.run(main())\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "interrupted", done.stderr


async def test_finished_tasks_are_forgotten_after_their_retention(tmp_path: Path) -> None:
    from smooth_agents.local import LocalRuntime

    runtime = LocalRuntime(make_settings(tmp_path, task_retention=60.0, max_finished_tasks=2))
    try:
        tasks = [await runtime.submit(runtime.parse_task_request({"task": None})) for _ in range(4)]
        for task in tasks:
            await runtime.cancel(task.id)
        await runtime.reap()
        assert set(runtime.tasks) == {t.id for t in tasks[-2:]}  # the newest two stay
        for task in tasks[-2:]:
            task.finished_at = (task.finished_at or 0) - 61
        await runtime.reap()
        assert runtime.tasks == {}
    finally:
        await runtime.aclose()


class _SlowToStop:
    """An agent that waits for ever and, once cancelled, takes until ``released`` to clean up (as a
    runner closing its browser does): whoever stops it waits for it meanwhile."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.released = asyncio.Event()

    async def run(self, context: Any) -> Any:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            await self.released.wait()


async def test_shutdown_while_the_reaper_is_stopping_a_task_ends(tmp_path: Path) -> None:
    # The reaper stops a task past its maximum duration and waits for the task's runner; a
    # shutdown arriving meanwhile cancels the reaper, and that cancellation must end it (it was
    # once swallowed with the runner's, and the reaper looped on while shutdown waited for ever).
    from smooth_agents.local import LocalRuntime

    agent = _SlowToStop()
    runtime = LocalRuntime(make_settings(tmp_path, max_task_duration=60), agent_selector=lambda _: agent)
    await runtime.start()
    closing: asyncio.Task[None] | None = None
    try:
        task = await runtime.submit(runtime.parse_task_request({"task": "wait"}))
        # Past its maximum duration only once its agent runs (the reaper would otherwise stop it
        # while its browser still opens, and the agent slow to stop would never be met).
        await asyncio.wait_for(agent.started.wait(), 60)
        task.created_at -= 120
        for _ in range(100):  # the reaper marks the task failed, then waits for its runner
            if not task.active:
                break
            await asyncio.sleep(0.1)
        assert task.status == "failed"
        assert "maximum duration" in str(task.output)
        closing = asyncio.create_task(runtime.aclose())
        await asyncio.sleep(0.2)  # the shutdown has cancelled the reaper mid-stop by now
        agent.released.set()
        await asyncio.wait_for(asyncio.shield(closing), 30)
    finally:
        agent.released.set()
        if closing is None:
            await runtime.aclose()


async def test_a_cancel_arriving_while_a_task_lets_its_browser_go_still_closes_it(
    tmp_path: Path, site: SiteServer
) -> None:
    # A task that ends by itself lets its downloads in flight finish before its browser closes;
    # a DELETE arriving meanwhile once cut that release short, and the browser context stayed open
    # (holding its place in the browser) until the server shut down.
    import json

    from smooth_agents.local import LocalRuntime

    runtime = LocalRuntime(make_settings(tmp_path, enable_scripted_agent=True))
    await runtime.start()
    try:
        slow = site.url("download/slow.bin?bytes=2000000&pace=0.2")  # some 6 s to arrive
        steps = [
            {"action": "goto", "url": site.url("files/index.html")},
            {"action": "evaluate_js", "js": f"location.href = {json.dumps(slow)}"},
            {"action": "wait_for_downloads", "count": 1},
        ]
        task = await runtime.submit(runtime.parse_task_request({"task": "script:" + json.dumps(steps)}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while task.browser is None:
            assert loop.time() < deadline, task.status
            await asyncio.sleep(0.01)
        context = task.browser.context
        while task.browser is not None:  # its browser is let go: it waits for its download
            assert loop.time() < deadline, task.status
            await asyncio.sleep(0.01)
        assert task.active
        browser = await runtime.browsers.browser()
        assert context in browser.contexts
        await runtime.cancel(task.id)
        assert task.status == "cancelled"
        assert context not in browser.contexts
    finally:
        await runtime.aclose()


def test_a_server_refusing_its_settings_lets_its_port_go(tmp_path: Path) -> None:
    import socket

    from smooth_agents.local import ThreadedServer

    port = free_port()
    with pytest.raises(ValueError, match="at least one API key"):
        ThreadedServer(LocalServerSettings(data_dir=tmp_path, port=port, api_keys=frozenset()))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # free again at once, not when a collector gets to it


def test_a_server_made_and_never_started_gives_its_port_back_when_forgotten(tmp_path: Path) -> None:
    import gc
    import socket

    from smooth_agents.local import ThreadedServer

    server = ThreadedServer(make_settings(tmp_path))  # port 0: a free one, held from here
    port = server.settings.port
    del server
    gc.collect()  # closed by the server, not left to the socket's collector (a ResourceWarning)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


async def test_connections_to_a_bound_socket_send_without_waiting_for_acks() -> None:
    # asyncio turns Nagle's algorithm off only on connections whose socket says TCP: with it on,
    # each answer of the server waited some 40 ms for an ACK, and the official SDK's close raced
    # its own polling (its close raised CancelledError one time in four).
    import socket

    from smooth_agents.local.server import bound_socket

    nodelay: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nodelay.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listening = bound_socket()
    server = await asyncio.start_server(accepted, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection(*listening.getsockname())
        assert await asyncio.wait_for(nodelay, 10) == 1
        writer.close()


def test_every_socket_the_package_listens_on_is_made_by_bound_socket() -> None:
    # The TCP_NODELAY above holds only for sockets bound_socket makes: the shared local server's
    # listener was made as socket(AF_INET, SOCK_STREAM), so its answers waited for ACKs too.
    import ast

    package = Path(__file__).resolve().parents[2] / "smooth_agents"
    makers: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                called = node.func if isinstance(node, ast.Call) else None
                if isinstance(called, ast.Attribute) and ast.unparse(called) == "socket.socket":
                    makers.append(f"{path.relative_to(package)}:{function.name}")
    # free_port's probe is closed before anything listens on its port.
    assert sorted(set(makers)) == ["local/server.py:bound_socket", "local/server.py:free_port"]
