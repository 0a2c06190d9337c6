"""The MCP server as a real subprocess: stdio, SSE and streamable HTTP, through MCP clients."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from smooth_agents.local.server import free_port
from tests.helpers import API_KEY, SiteServer, cancel_once_its_task_exists, task_ends

PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}


def server_env(local_server: ThreadedServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update(
        {"SMOOTH_API_KEY": API_KEY, "SMOOTH_BASE_URL": local_server.base_url, "SMOOTH_TELEMETRY": "off"}
    )
    return env


class StdioServer:
    """smooth-mcp over stdio as a subprocess, spoken to line by line. Its output is read by
    threads, so a missing answer fails after a timeout (no test hangs on a blocking read) and a
    chatty stderr cannot fill its pipe."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        assert process.stdout is not None
        assert process.stderr is not None
        out, err = process.stdout, process.stderr

        def read_stdout() -> None:
            for line in out:
                self._lines.put(line)

        self._readers = [
            threading.Thread(target=read_stdout, daemon=True),
            threading.Thread(target=lambda: self._stderr.extend(err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def next_message(self, timeout: float = 30) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout} s") from None
        message: dict[str, Any] = json.loads(line)
        return message

    def request(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """Send one message; for a request, read messages until its answer."""
        self.send(json.dumps(message))
        if "id" not in message:
            return None
        while True:
            answer = self.next_message()
            if answer.get("id") == message["id"]:
                return answer

    def stderr_text(self) -> str:
        """All of stderr: call once the process has ended."""
        self._readers[1].join(10)
        return "".join(self._stderr)

    def stop(self) -> None:
        """Kill the process if it still runs; its pipes are read to their end, then closed."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self._readers:
            reader.join(10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def stdio_server(env: dict[str, str]) -> Iterator[StdioServer]:
    """smooth-mcp over stdio, killed and its pipes closed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_server"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = StdioServer(process)
    try:
        yield server
    finally:
        server.stop()


# What each HTTP server started by ``http_server`` wrote (stdout and stderr, in one file: a pipe
# nobody reads while it serves would fill and stop a server that logs much).
_LOGS: weakref.WeakKeyDictionary[subprocess.Popen[bytes], Path] = weakref.WeakKeyDictionary()


def logs_of(process: subprocess.Popen[bytes]) -> str:
    """What a server started by ``http_server`` has written so far."""
    return _LOGS[process].read_text(errors="replace")


@contextmanager
def http_server(
    env: dict[str, str], transport: str, *extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    command = [sys.executable, "-m", "mcp_server", "--transport", transport, "--port", str(port), *extra]
    with tempfile.TemporaryDirectory(prefix="smooth-mcp-http-") as folder:
        log = Path(folder) / "output.txt"
        with log.open("wb") as output:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _LOGS[process] = log
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx2.get(base + "/", timeout=2)
                    break
                except httpx2.TransportError:
                    assert process.poll() is None, logs_of(process)
                    assert time.monotonic() < deadline, logs_of(process)
                    time.sleep(0.05)
            yield base, process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


Connector = Callable[[], AbstractAsyncContextManager[Client]]


@pytest.fixture(params=["stdio", "sse", "streamable-http"])
def connect(request: pytest.FixtureRequest, local_server: ThreadedServer) -> Iterator[Connector]:
    env = server_env(local_server)
    if request.param == "stdio":
        parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env)

        @asynccontextmanager
        async def stdio() -> AsyncIterator[Client]:
            async with Client(parameters) as client:
                yield client

        yield stdio
        return
    with http_server(env, request.param) as (base, _):

        @asynccontextmanager
        async def over_http() -> AsyncIterator[Client]:
            if request.param == "sse":
                transport: Any = sse_client(base + "/sse")
            else:
                transport = streamable_http_client(base + "/mcp")
            async with Client(transport) as client:
                yield client

        yield over_http


async def test_list_extract_progress_and_cancel(
    connect: Connector, site: SiteServer, local_server: ThreadedServer
) -> None:
    async with connect() as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        assert {"smooth_browse", "smooth_extract", "smooth_session_open"} <= names
        extracted = await mcp.call_tool(
            "smooth_extract", {"url": site.url("demo/product.html"), "json_schema": PRODUCT}
        )
        assert not extracted.is_error, extracted.content
        assert extracted.structured_content is not None
        assert extracted.structured_content["data"] == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}

        seen: list[str] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(message or "")

        steps = json.dumps(
            [{"action": "goto", "url": site.url("demo/index.html")}, {"action": "sleep", "seconds": 0.5}]
        )
        result = await mcp.call_tool(
            "smooth_browse", {"task": "script:" + steps}, progress_callback=on_progress
        )
        assert not result.is_error, result.content
        assert any("running" in m for m in seen)

        async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
            sleeping = {"task": 'script:[{"action": "sleep", "seconds": 60}]'}
            task_id = await cancel_once_its_task_exists(
                smooth, lambda: mcp.call_tool("smooth_browse", sleeping)
            )
            await task_ends(smooth, task_id, "cancelled")


def test_stdio_writes_only_protocol_to_stdout(local_server: ThreadedServer, tmp_path: Path) -> None:
    env = server_env(local_server)
    env.pop("SMOOTH_API_KEY")
    env.pop("SMOOTH_BASE_URL")  # the embedded server: it announces itself, on stderr
    env["SMOOTH_LOCAL_DATA_DIR"] = str(tmp_path)
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "smooth_profile_list", "arguments": {}},
        },
        # The browser path too: a session starts Chromium, runs a script, closes.
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "smooth_session_open", "arguments": {}},
        },
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "mcp_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    answers = []
    for message in messages:
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()
        if "id" in message:
            # Every stdout line is a JSON-RPC message; read until this request's answer.
            while True:
                answer = json.loads(server.stdout.readline())
                assert answer["jsonrpc"] == "2.0"
                answers.append(answer)
                if answer.get("id") == message["id"]:
                    break
    profiles = next(a for a in answers if a.get("id") == 3)
    assert isinstance(profiles["result"]["structuredContent"]["profile_ids"], list)
    opened = next(a for a in answers if a.get("id") == 4)
    session_id = opened["result"]["structuredContent"]["session_id"]
    for number, (name, arguments) in enumerate(
        [
            ("smooth_session_evaluate_js", {"session_id": session_id, "code": "console.log('noise'); 6 * 7"}),
            ("smooth_session_close", {"session_id": session_id}),
        ],
        start=5,
    ):
        request = {
            "jsonrpc": "2.0",
            "id": number,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        while True:
            answer = json.loads(server.stdout.readline())
            assert answer["jsonrpc"] == "2.0"
            if answer.get("id") == number:
                break
        assert not answer["result"].get("isError"), answer
    assert answer["result"]["structuredContent"]["closed"] is True
    server.stdin.close()
    server.wait(30)
    rest = server.stdout.read()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines() if line.strip())
    stderr = server.stderr.read() if server.stderr else ""
    server.stdout.close()
    if server.stderr:
        server.stderr.close()
    assert "embedded local Smooth server" in stderr


def start_refused(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    """smooth-mcp started with settings it must refuse: it exits at once, non-zero."""
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    return done


def test_non_loopback_bind_without_a_token_is_refused(local_server: ThreadedServer) -> None:
    env = server_env(local_server)
    for transport in ("sse", "streamable-http"):
        done = start_refused(env, "--transport", transport, "--host", "0.0.0.0")
        assert "without a bearer token" in done.stderr


def test_a_list_of_tokens_with_a_short_one_is_refused(local_server: ThreadedServer) -> None:
    # A comma in a long token must not quietly make two short, guessable ones.
    env = {**server_env(local_server), "SMOOTH_MCP_AUTH_TOKEN": "a-long-random-token-part,1234"}
    done = start_refused(env, "--transport", "streamable-http")
    assert "shorter than 16 characters" in done.stderr
    assert "a-long-random-token-part" not in done.stderr + done.stdout


async def test_tokens_hosts_and_origins_over_http(local_server: ThreadedServer) -> None:
    env = server_env(local_server)
    with http_server(env, "streamable-http", "--auth-token", "tok-secret-123") as (base, process):
        url = base + "/mcp"
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        async with httpx2.AsyncClient(timeout=10) as raw:
            assert (await raw.post(url, json=initialize, headers=headers)).status_code == 401
            wrong = {**headers, "authorization": "Bearer nope"}
            assert (await raw.post(url, json=initialize, headers=wrong)).status_code == 401
            good = {**headers, "authorization": "Bearer tok-secret-123"}
            foreign_host = await raw.post(url, json=initialize, headers={**good, "host": "evil.example"})
            assert foreign_host.status_code in (400, 403, 421)
            foreign_origin = await raw.post(
                url, json=initialize, headers={**good, "origin": "http://evil.example"}
            )
            assert foreign_origin.status_code in (400, 403)
            # Two Authorization headers are refused, the right token among them or not.
            twice = [
                *headers.items(),
                ("authorization", "Bearer tok-secret-123"),
                ("authorization", "Bearer x"),
            ]
            assert (await raw.post(url, json=initialize, headers=twice)).status_code == 401
        http_client = create_mcp_http_client(headers={"authorization": "Bearer tok-secret-123"})
        async with http_client, Client(streamable_http_client(url, http_client=http_client)) as mcp:
            assert (await mcp.list_tools()).tools
        process.terminate()
        process.wait(20)
        logs = logs_of(process)
    assert "tok-secret-123" not in logs
    assert API_KEY not in logs
