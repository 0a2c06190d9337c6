"""langchain-mcp-adapters in its default mode (a new smooth-mcp process for every call) with
``--shared-browser`` and no Smooth key: the cell the host matrix marks not applicable, a session
driven over calls, works, because the processes share this user's local server and its sessions.

Apart from the matrix: its servers run with a key (the shared browser is the local server's), and
this host's processes must find a server of their own test's folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from smooth_agents.shared_server import stop_shared
from tests.helpers import SiteServer
from tests.matrix.hosts import ADAPTERS_PYTHON, AdaptersHost
from tests.matrix.kinds import session_flow


@pytest.fixture
async def adapters_default_shared(tmp_path: Path) -> AsyncIterator[AdaptersHost]:
    if not ADAPTERS_PYTHON.exists():
        pytest.fail("scripts/check installs langchain-mcp-adapters in .cache/adapters-venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update(
        SMOOTH_LOCAL_SHARED_DIR=str(tmp_path / "shared"),
        SMOOTH_LOCAL_DATA_DIR=str(tmp_path / "data"),
        SMOOTH_LOCAL_RECORDING="0",
    )
    connection: dict[str, Any] = {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "mcp_server", "--shared-browser"],
        "env": env,
    }
    try:
        async with AsyncExitStack() as stack:
            yield await AdaptersHost.start("adapters-default-stdio-shared", "default", connection, stack)
    finally:
        stop_shared(tmp_path / "shared")


async def test_a_session_lives_across_the_processes_of_the_adapters_default_mode(
    adapters_default_shared: AdaptersHost, site: SiteServer
) -> None:
    world: Any = SimpleNamespace(site=site)  # all session_flow reads of the matrix's world
    await session_flow(adapters_default_shared, world, "adapters-default-stdio-shared")
