"""Fixtures of the MCP tests: the MCP server in process, talking to the local Smooth server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp.server.mcpserver import MCPServer

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ToolRuntime, ToolSettings
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY


@pytest.fixture
async def smooth_client(local_server: ThreadedServer) -> AsyncIterator[AsyncSmoothClient]:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        yield client


@pytest.fixture
async def mcp_server(
    smooth_client: AsyncSmoothClient, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MCPServer[ToolRuntime], ToolRuntime]:
    root = tmp_path_factory.mktemp("uploads")
    (root / "hello.txt").write_text("hello from the MCP host")
    settings = MCPSettings(
        max_sessions=3,
        tools=ToolSettings(wait_seconds=20, content_budget=2000, file_roots=(str(root),)),
    )
    return build_server(settings, client=smooth_client)
