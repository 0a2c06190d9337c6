"""``smooth-mcp --shared-browser``: processes started one per call (as a host in a connection-per-call
mode starts them) share one local server, so one browser, and a session opened by one process is
driven and closed by the next ones. Without the flag each process has a server of its own, which
ends with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from smooth_agents.shared_server import SharedPlace, process_alive, stop_shared
from tests.helpers import SiteServer


@pytest.fixture
def shared_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update(
        SMOOTH_LOCAL_SHARED_DIR=str(tmp_path / "shared"),
        SMOOTH_LOCAL_DATA_DIR=str(tmp_path / "data"),
        SMOOTH_LOCAL_RECORDING="0",
        SMOOTH_MCP_LOG_LEVEL="info",  # the shared server's log says when its browser started
    )
    yield env
    stop_shared(tmp_path / "shared")


async def one_call(env: dict[str, str], tool: str, arguments: dict[str, Any], *flags: str) -> dict[str, Any]:
    """A process for one call, as langchain-mcp-adapters' default mode runs one."""
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", *flags], env=env)
    async with Client(parameters) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def shared_server(env: dict[str, str]) -> tuple[int, Path]:
    """The pid of the one shared server the test's folder names, and its log."""
    states = list(Path(env["SMOOTH_LOCAL_SHARED_DIR"]).glob("server-*.json"))
    assert len(states) == 1, states
    return json.loads(states[0].read_text(encoding="utf-8"))["pid"], SharedPlace(states[0]).log_file


async def test_processes_per_call_share_one_browser_and_its_sessions(
    shared_env: dict[str, str], site: SiteServer
) -> None:
    flag = "--shared-browser"
    opened = await one_call(shared_env, "smooth_session_open", {"url": site.url("demo/index.html")}, flag)
    session = {"session_id": opened["session_id"]}
    server, log = shared_server(shared_env)
    moved = await one_call(
        shared_env, "smooth_session_goto", {**session, "url": site.url("demo/product.html")}, flag
    )
    assert moved["title"].startswith("Nimbus 14 Pro Laptop")
    value = await one_call(
        shared_env, "smooth_session_evaluate_js", {**session, "code": "document.title"}, flag
    )
    assert "Nimbus 14 Pro Laptop" in json.dumps(value)
    closed = await one_call(shared_env, "smooth_session_close", session, flag)
    assert closed["closed"] is True
    # Four processes, one server, one browser start.
    assert shared_server(shared_env)[0] == server
    assert process_alive(server)
    assert log.read_text(encoding="utf-8").count("browser started") == 1


async def test_without_the_flag_each_process_has_a_server_of_its_own(
    shared_env: dict[str, str], site: SiteServer
) -> None:
    opened = await one_call(shared_env, "smooth_session_open", {"url": site.url("demo/index.html")})
    assert opened["session_id"]
    assert not list(Path(shared_env["SMOOTH_LOCAL_SHARED_DIR"]).glob("server-*.json"))


def test_the_host_model_cannot_be_shared() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--shared-browser", "--local-model", "host"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "--shared-browser cannot lend the browser agent this host's model" in done.stderr
