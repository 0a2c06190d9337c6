"""The two surfaces expose the same tools: checked mechanically, tool by tool."""

from __future__ import annotations

import pytest
from mcp.client import Client

from langchain_tools import ALL_TOOL_CLASSES, SmoothToolkit
from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ALL_TOOLS


async def test_mcp_and_langchain_offer_the_same_tools() -> None:
    client = AsyncSmoothClient(api_key="sk-parity", base_url="http://127.0.0.1:9/api/")
    server, _ = build_server(MCPSettings(), client=client)
    async with Client(server) as mcp:
        mcp_tools = {t.name: t for t in (await mcp.list_tools()).tools}
    langchain_tools = {cls.definition.name: cls() for cls in ALL_TOOL_CLASSES}
    assert list(mcp_tools) == list(langchain_tools) == [d.name for d in ALL_TOOLS]
    for name, lc_tool in langchain_tools.items():
        assert lc_tool.name == name
        assert lc_tool.description == mcp_tools[name].description
        lc_schema = lc_tool.tool_call_schema
        assert not isinstance(lc_schema, dict)
        assert (
            lc_schema.model_json_schema(by_alias=True)["properties"]
            == mcp_tools[name].input_schema["properties"]
        )
        assert set(lc_schema.model_json_schema(by_alias=True).get("required", [])) == set(
            mcp_tools[name].input_schema.get("required", [])
        )


@pytest.mark.parametrize("tool", SmoothToolkit(api_key="sk-x").get_tools(), ids=lambda t: t.name)
def test_toolkit_tools_are_mcp_named(tool: object) -> None:
    assert getattr(tool, "name", "").startswith("smooth_")
