"""The two surfaces expose the same tools: checked mechanically, tool by tool."""

from __future__ import annotations

import pytest
from mcp.client import Client

from langchain_tools import ALL_TOOL_CLASSES, SmoothToolkit
from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ALL_TOOLS, WORK_TOOLS, ToolSettings


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


def test_each_tool_of_the_one_list_has_its_langchain_class_by_name() -> None:
    import langchain_tools

    for definition in ALL_TOOLS:
        camel = "".join(part.capitalize() for part in definition.name.split("_")) + "Tool"
        tool_class = getattr(langchain_tools, camel)
        assert tool_class.definition is definition
        assert camel in langchain_tools.__all__
    assert all(getattr(langchain_tools, name) is not None for name in langchain_tools.__all__)
    with pytest.raises(AttributeError):
        _ = langchain_tools.SmoothNoSuchTool


def test_the_toolkit_hands_out_the_tools_of_web_work() -> None:
    with SmoothToolkit(api_key="sk-x") as toolkit:
        assert [t.name for t in toolkit.get_tools()] == [d.name for d in WORK_TOOLS]
