"""What the model reads over MCP names what exists on MCP: the tools' own names and arguments,
one thing said once about the live view, every value shown (null too), and later parts of a long
result that say only what they continue.

Everything goes through an MCP client in process, against the local Smooth server and Chromium.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ToolRuntime, ToolSettings
from tests.helpers import SiteServer

BUDGET = 2_000


@pytest.fixture
def server(smooth_client: AsyncSmoothClient) -> MCPServer[ToolRuntime]:
    settings = MCPSettings(tools=ToolSettings(wait_seconds=30, content_budget=BUDGET))
    return build_server(settings, client=smooth_client)[0]


def text_of(result: CallToolResult) -> str:
    assert result.content[0].type == "text"
    return str(result.content[0].text)  # type: ignore[union-attr]


async def ok(mcp: Client, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = await mcp.call_tool(name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return text_of(result), dict(result.structured_content)


# What the local server's reader says without a model, in the names of the HTTP contract (and of
# the Python client); over MCP each has its tool's name.
CONTRACT_NAMES = ("`response_model`", "`goto`", "`extract`", "`evaluate_js`")
TOOL_NAMES = (
    "`url`",
    "`response_schema`",
    "`smooth_session_goto`",
    "`smooth_session_extract`",
    "`smooth_session_evaluate_js`",
)


def names_only_tools(text: str) -> None:
    for name in TOOL_NAMES:
        assert name in text, (name, text)
    for name in CONTRACT_NAMES:
        assert name not in text, (name, text)


async def test_the_readers_no_model_failure_names_the_mcp_tools_and_arguments(
    server: MCPServer[ToolRuntime],
) -> None:
    async with Client(server) as mcp:
        browsed = await mcp.call_tool("smooth_browse", {"task": "book me a flight to Lisbon"})
        assert browsed.is_error
        assert text_of(browsed).startswith("The task ended failed: The built-in reader has no model")
        names_only_tools(text_of(browsed))
        _, opened = await ok(mcp, "smooth_session_open", {})
        try:
            ran = await mcp.call_tool(
                "smooth_session_run_task", {"session_id": opened["session_id"], "task": "book me a flight"}
            )
            assert ran.is_error
            # The tool the model called fails, not an action it never heard of.
            assert text_of(ran).startswith("smooth_session_run_task failed: The built-in reader has no model")
            names_only_tools(text_of(ran))
        finally:
            await ok(mcp, "smooth_session_close", {"session_id": opened["session_id"]})


@pytest.mark.parametrize("model", ["", "openai:gpt-4o-mini"], ids=["reader", "model"])
async def test_the_live_view_is_described_one_way(monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    # The embedded server (no key) is what adds notes to the descriptions; listing the tools
    # starts no browser and calls no model.
    for variable in ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY", "SMOOTH_BASE_URL", "SMOOTH_LOCAL_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    if model:
        monkeypatch.setenv("SMOOTH_LOCAL_MODEL", model)
    server, _ = build_server(MCPSettings())
    async with Client(server) as mcp:
        tools = (await mcp.list_tools()).tools
        said = [mcp.instructions or ""]
        said += [tool.description or "" for tool in tools]
        said += [str(tool.output_schema) for tool in tools]
    everything = "\n".join(said)  # a model reads all of it
    assert "built-in local browser" in everything
    assert "live_url where a person can watch" in everything
    # The live view is said to be one thing: never a view a person can take over in one place
    # and a picture to watch (not to take over) in another.
    claims = re.findall(r"(?:watch or take over|can take over|also take over)", everything, re.IGNORECASE)
    denials = re.findall(r"(?:not take over|no take-over|a picture of the page)", everything, re.IGNORECASE)
    assert not (claims and denials), (claims, denials)


@pytest.mark.parametrize("code", ["null", "undefined", "void 0", "(() => {})()"])
async def test_a_script_value_of_null_or_undefined_reads_as_such(
    server: MCPServer[ToolRuntime], site: SiteServer, code: str
) -> None:
    async with Client(server) as mcp:
        _, opened = await ok(mcp, "smooth_session_open", {"url": site.url("demo/index.html")})
        sid = opened["session_id"]
        try:
            text, result = await ok(mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": code})
        finally:
            await ok(mcp, "smooth_session_close", {"session_id": sid})
    assert result["result"] is None
    # The wire carries JSON, which has no undefined: the text says the value is one of the two.
    assert text == (
        f"Value of the script in session {sid} is null "
        "(the script returned null or undefined: the two arrive alike)."
    )


async def read_parts(mcp: Client, first: tuple[str, dict[str, Any]]) -> list[str]:
    """The texts of every part after the first, following read_more."""
    texts: list[str] = []
    structured = first[1]
    while structured["next_start_index"] is not None:
        arguments = {"task_id": structured.get("task_id") or structured["session_id"]}
        if structured.get("event_id"):
            arguments["event_id"] = structured["event_id"]
        arguments["start_index"] = structured["next_start_index"]
        text, structured = await ok(mcp, "smooth_task_status", arguments)
        texts.append(text)
    return texts


async def test_later_parts_carry_a_short_lead_and_the_first_keeps_the_links(
    server: MCPServer[ToolRuntime], site: SiteServer
) -> None:
    async with Client(server) as mcp:
        first = await ok(mcp, "smooth_browse", {"task": "read the page", "url": site.url("long?chars=6000")})
        task_id = first[1]["task_id"]
        lead = first[0].split("\n", 1)[0]
        assert lead.startswith(f"Answer of task {task_id} (done; text; recording: http")
        later = await read_parts(mcp, first)
        assert len(later) >= 2
        for text in later:
            assert text.split("\n", 1)[0] == f"Answer of task {task_id}, continued:"
        # A session action's long result, read on from the session's events.
        _, opened = await ok(mcp, "smooth_session_open", {"url": site.url("long?chars=6000")})
        sid = opened["session_id"]
        try:
            first = await ok(
                mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": "document.body.innerText"}
            )
            event_id = first[1]["event_id"]
            later = await read_parts(mcp, first)
        finally:
            await ok(mcp, "smooth_session_close", {"session_id": sid})
        assert later
        for text in later:
            assert text.split("\n", 1)[0] == f"Result {event_id} of session {sid}, continued:"
