"""The two surfaces expose the same tools: checked mechanically, tool by tool."""

from __future__ import annotations

import pytest
from mcp.client import Client

from langchain_tools import ALL_TOOL_CLASSES, SmoothToolkit
from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ALL_TOOLS, ToolSettings


async def test_mcp_and_langchain_offer_the_same_tools() -> None:
    client = AsyncSmoothClient(api_key="sk-parity", base_url="http://127.0.0.1:9/api/")
    # With a folder open to it, stdio offers every tool (smooth_file_upload included).
    settings = MCPSettings(tools=ToolSettings(file_roots=("/tmp",)))
    server, _ = build_server(settings, client=client)
    async with Client(server) as mcp:
        mcp_tools = {t.name: t for t in (await mcp.list_tools()).tools}
    langchain_tools = {cls.definition.name: cls() for cls in ALL_TOOL_CLASSES}
    assert list(mcp_tools) == list(langchain_tools) == [d.name for d in ALL_TOOLS]
    for name, lc_tool in langchain_tools.items():
        assert lc_tool.name == name
        assert lc_tool.description == mcp_tools[name].description
        # The argument schema the model sees is the same published schema on both surfaces.
        lc_schema = lc_tool.tool_call_schema
        assert isinstance(lc_schema, dict)
        assert {k: v for k, v in lc_schema.items() if k != "description"} == mcp_tools[name].input_schema


@pytest.mark.parametrize("tool", SmoothToolkit(api_key="sk-x").get_tools(), ids=lambda t: t.name)
def test_toolkit_tools_are_mcp_named(tool: object) -> None:
    assert getattr(tool, "name", "").startswith("smooth_")
