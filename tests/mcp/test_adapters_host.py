"""langchain-mcp-adapters, a real host that gives the model only the text of a result, sees
everything over stdio and over streamable HTTP: all 20 rows of a listing, and a 180,000-character
page, read on through the calls the text names, equal to the page exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer
from tests.mcp.test_transports import http_server, server_env
from tests.reading import part_in_text, read_on_arguments

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS_PYTHON = ROOT / ".cache" / "adapters-venv" / "bin" / "python"
HOST_SCRIPT = Path(__file__).with_name("adapters_host.py")


def run_host(connection: dict[str, Any], site: SiteServer) -> dict[str, Any]:
    assert ADAPTERS_PYTHON.exists(), (
        "scripts/bootstrap installs langchain-mcp-adapters in .cache/adapters-venv"
    )
    pages = [site.url("listing?rows=20"), site.url("long?chars=180000")]
    done = subprocess.run(
        [str(ADAPTERS_PYTHON), str(HOST_SCRIPT), json.dumps(connection), *pages],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


async def check(seen: dict[str, Any], local_server: ThreadedServer) -> None:
    rows = json.loads(part_in_text(seen["listing"]))
    assert [r["name"] for r in rows] == [f"Widget model {i:03d}" for i in range(20)]
    pages: list[str] = seen["pages"]
    assert len(pages) >= 9
    arguments = read_on_arguments(pages[0])
    assert arguments is not None
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        whole = (await client.get_task(arguments["task_id"])).output
    assert len(whole) >= 180_000
    assert "".join(part_in_text(p) for p in pages) == whole


@pytest.mark.timeout(400)
async def test_over_stdio(local_server: ThreadedServer, site: SiteServer) -> None:
    connection = {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "mcp_server"],
        "env": server_env(local_server),
    }
    await check(run_host(connection, site), local_server)


@pytest.mark.timeout(400)
async def test_over_streamable_http(local_server: ThreadedServer, site: SiteServer) -> None:
    with http_server(server_env(local_server), "streamable-http") as (base, _):
        await check(run_host({"transport": "streamable_http", "url": base + "/mcp"}, site), local_server)
