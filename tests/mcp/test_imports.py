"""The MCP server never imports LangChain, and imports Playwright only for the embedded server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from smooth_agents.shared_server import stop_shared

PROBE = (
    "import sys\n"
    "from mcp_server import build_server\n"
    "server, runtime = build_server()\n"
    "print(runtime.client.embedded, sorted({m.split('.')[0] for m in sys.modules} & {'langchain_core', "
    "'langchain', 'playwright'}))\n"
)


def probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment, check=True
    )
    return done.stdout.strip()


def test_with_a_key_neither_langchain_nor_playwright_is_imported() -> None:
    assert probe(SMOOTH_API_KEY="sk-x", SMOOTH_BASE_URL="http://127.0.0.1:9/api/") == "False []"


def test_building_the_server_loads_no_browser_even_without_a_key() -> None:
    # The embedded server (and Playwright) start with the first tool call, not at startup.
    assert probe() == "True []"


def test_descriptions_say_what_the_embedded_server_can_do() -> None:
    probe = (
        "from mcp_server import build_server\n"
        "server, runtime = build_server()\n"
        "import asyncio\n"
        "tools = {t.name: t for t in asyncio.run(server.list_tools())}\n"
        "print(runtime.settings.embedded, 'without a model' in tools['smooth_browse'].description)\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True
    )
    assert done.stdout.strip() == "True True"
    with_key = {**environment, "SMOOTH_API_KEY": "sk-x", "SMOOTH_BASE_URL": "http://127.0.0.1:9/api/"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=with_key, check=True
    )
    assert done.stdout.strip() == "False False"


INITIALIZE = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "t", "version": "1"},
}
HANDSHAKE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "smooth_profile_list", "arguments": {}},
    },
]


def test_listing_the_tools_loads_no_browser_extraction_or_langchain() -> None:
    probe = (
        "import asyncio, sys\n"
        "from mcp_server import build_server\n"
        "server, runtime = build_server()\n"
        "asyncio.run(server.list_tools())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'playwright', 'lxml', 'langchain_core'}),"
        " sorted(m for m in sys.modules if m.startswith('smooth_agents.local')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=environment, check=True
    )
    assert done.stdout.strip() == "[] []"


def test_with_the_shared_browser_the_process_never_loads_the_browser(tmp_path: Path) -> None:
    # The shared server, a process of its own, has Playwright and the extraction stack; a process
    # using it (one per call, with some hosts) answers the handshake and the calls without them.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    shared = tmp_path / "shared"
    environment.update(
        SMOOTH_LOCAL_DATA_DIR=str(tmp_path), SMOOTH_LOCAL_RECORDING="0", SMOOTH_LOCAL_SHARED_DIR=str(shared)
    )
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "mcp_server", "--shared-browser"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=environment,
        )
    stdin, stdout = server.stdin, server.stdout
    assert stdin is not None
    assert stdout is not None
    with stdin, stdout:
        try:
            stdin.write("".join(json.dumps(message) + "\n" for message in HANDSHAKE))
            stdin.flush()
            answered = [json.loads(stdout.readline())["id"] for _ in range(3)]
        finally:
            stdin.close()  # the host is done
            server.wait(60)
            stop_shared(shared)
    assert answered == [1, 2, 3]
    imported = [line.rsplit("|", 1)[1].strip() for line in log.read_text().splitlines() if "|" in line]
    assert {m.split(".")[0] for m in imported} & {
        "playwright",
        "lxml",
        "langchain",
        "langchain_core",
    } == set()
    assert not [m for m in imported if m.startswith("smooth_agents.local.")]
