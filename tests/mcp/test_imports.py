"""The MCP server never imports LangChain, and imports Playwright only for the embedded server."""

from __future__ import annotations

import os
import subprocess
import sys

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
