"""Fixtures of the LangChain tests: tools sharing one runtime against the local server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smooth_agents import SmoothClient
from smooth_agents.agent_tools import BlockingToolRuntime, ToolSettings
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY


@pytest.fixture(scope="session")
def upload_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lc-uploads")
    (root / "notes.txt").write_text("notes for the agent")
    return root


@pytest.fixture(scope="session")
def lc_runtime(local_server: ThreadedServer, upload_root: Path) -> Iterator[BlockingToolRuntime]:
    client = SmoothClient(api_key=API_KEY, base_url=local_server.base_url)
    runtime = BlockingToolRuntime(
        client,
        settings=ToolSettings(wait_seconds=30, content_budget=2000, file_roots=(str(upload_root),)),
        max_sessions=64,
    )
    yield runtime
    runtime.close()
    client.close()
