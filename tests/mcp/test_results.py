"""What a model reads through the MCP server: whole, budgeted, continuable results; arguments as sent.

Everything goes through an MCP client in process, against the local Smooth server and Chromium.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ToolRuntime, ToolSettings
from smooth_agents.agent_tools.cutting import compact_json, text_form
from tests.helpers import FILES_CHOSEN_JS, SiteServer
from tests.reading import part_in_text, read_on_arguments

BUDGET = 20_000
ROW = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
ROWS = {"type": "array", "items": ROW}


@pytest.fixture
def server(smooth_client: AsyncSmoothClient, tmp_path: Path) -> MCPServer[ToolRuntime]:
    (tmp_path / "cv.txt").write_text("my curriculum vitae")
    settings = MCPSettings(
        tools=ToolSettings(wait_seconds=30, content_budget=BUDGET, file_roots=(str(tmp_path),))
    )
    return build_server(settings, client=smooth_client)[0]


def text_of(result: CallToolResult) -> str:
    assert result.content[0].type == "text"
    return str(result.content[0].text)  # type: ignore[union-attr]


async def ok(mcp: Client, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = await mcp.call_tool(name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    text = text_of(result)
    structured = dict(result.structured_content)
    # One budget bounds both parts (the structured part counted as compact JSON).
    assert len(text) <= BUDGET
    assert len(compact_json(structured)) <= BUDGET
    return text, structured


async def read_all(mcp: Client, first: tuple[str, dict[str, Any]]) -> tuple[str, str, int]:
    """Follow read_more to the end: (the text parts joined, the structured parts joined, calls)."""
    text, structured = first
    texts, calls = [part_in_text(text)], 1
    field = next(k for k in ("output", "data", "result") if k in structured)
    pieces = [structured[field] if isinstance(structured[field], str) else ""]
    while structured["next_start_index"] is not None:
        assert structured["truncated"] is True
        call = structured["read_more"]
        assert call.startswith("smooth_task_status(")
        assert call in text
        arguments = {"task_id": structured.get("task_id") or structured["session_id"]}
        if structured.get("event_id"):
            arguments["event_id"] = structured["event_id"]
        arguments["start_index"] = structured["next_start_index"]
        assert read_on_arguments(text) == arguments  # a text-only reader finds the same call
        text, structured = await ok(mcp, "smooth_task_status", arguments)
        assert structured["start_index"] == arguments["start_index"]  # no gap, no overlap
        assert "is running" not in text.split("\n")[0]  # a part says what it is, not the session's state
        texts.append(part_in_text(text))
        pieces.append(structured["output"])
        calls += 1
    return "".join(texts), "".join(pieces), calls


async def test_a_20_row_listing_is_whole_in_the_text(
    server: MCPServer[ToolRuntime], site: SiteServer
) -> None:
    async with Client(server) as mcp:
        text, structured = await ok(
            mcp, "smooth_extract", {"url": site.url("listing?rows=20"), "json_schema": json.dumps(ROWS)}
        )
        rows = structured["data"]
        assert len(rows) == 20
        assert structured["truncated"] is False
        assert json.loads(part_in_text(text)) == rows  # the text carries the data itself, as JSON
        for i in range(20):
            assert f"Widget model {i:03d}" in text


async def test_a_180000_character_page_reads_on_exactly(
    server: MCPServer[ToolRuntime], site: SiteServer, smooth_client: AsyncSmoothClient
) -> None:
    async with Client(server) as mcp:
        first = await ok(
            mcp, "smooth_browse", {"task": "read the page", "url": site.url("long?chars=180000")}
        )
        whole = (await smooth_client.get_task(first[1]["task_id"])).output
        assert len(whole) >= 180_000
        texts, structured_parts, calls = await read_all(mcp, first)
        assert texts == whole
        assert structured_parts == whole
        assert calls >= len(whole) // BUDGET


async def test_every_long_result_is_budgeted_and_continues(
    server: MCPServer[ToolRuntime], site: SiteServer
) -> None:
    async with Client(server) as mcp:
        _, opened = await ok(mcp, "smooth_session_open", {"url": site.url("long?chars=60000")})
        sid = opened["session_id"]
        body_js = "document.body.innerText"
        first = await ok(mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": body_js})
        _, again = await ok(mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": body_js})
        whole_text = again["result"] if not again["truncated"] else None
        texts, pieces, _ = await read_all(mcp, first)
        assert whole_text is None
        assert len(texts) > BUDGET
        assert texts == pieces
        # Data with one huge string: the first part is a valid value, and the JSON text reads on.
        big = {"type": "object", "properties": {"text": {"type": "string", "description": "article body"}}}
        first = await ok(mcp, "smooth_session_extract", {"session_id": sid, "json_schema": json.dumps(big)})
        assert isinstance(first[1]["data"], dict)
        assert first[1]["truncated"] is True
        texts, _, _ = await read_all(mcp, first)
        data = json.loads(texts)
        assert data["text"].startswith(first[1]["data"]["text"])
        assert len(data["text"]) > BUDGET
        # A listing longer than the budget: the first part keeps whole rows, then the JSON reads on.
        await ok(mcp, "smooth_session_goto", {"session_id": sid, "url": site.url("listing?rows=600")})
        first = await ok(mcp, "smooth_session_extract", {"session_id": sid, "json_schema": ROWS})
        assert 0 < len(first[1]["data"]) < 600
        texts, _, _ = await read_all(mcp, first)
        rows = json.loads(texts)
        assert len(rows) == 600
        assert rows[: len(first[1]["data"]) - 1] == first[1]["data"][:-1]
        # run_task's answer (the page as text) reads on too.
        await ok(mcp, "smooth_session_goto", {"session_id": sid, "url": site.url("long?chars=50000")})
        first = await ok(mcp, "smooth_session_run_task", {"session_id": sid, "task": "read the page"})
        texts, _, _ = await read_all(mcp, first)
        assert texts.startswith("# A very long article")
        assert len(texts) >= 50_000
        await ok(mcp, "smooth_session_close", {"session_id": sid})
        # smooth_extract's session is closed, yet its result still reads on.
        first = await ok(mcp, "smooth_extract", {"url": site.url("listing?rows=600"), "json_schema": ROWS})
        texts, _, _ = await read_all(mcp, first)
        assert len(json.loads(texts)) == 600


async def test_short_results_stay_in_the_budget_on_hostile_pages(
    server: MCPServer[ToolRuntime], site: SiteServer
) -> None:
    async with Client(server) as mcp:
        huge = site.url("title?chars=100000")
        text, opened = await ok(mcp, "smooth_session_open", {"url": huge})  # ok() checks the budget
        assert opened["session_id"] in text
        text, landed = await ok(mcp, "smooth_session_goto", {"session_id": opened["session_id"], "url": huge})
        assert "were cut" in text
        assert landed["title"].startswith("Tïtle Tïtle")
        assert landed["title"].endswith("…")
        await ok(mcp, "smooth_session_close", {"session_id": opened["session_id"]})


@pytest.mark.parametrize("code", ["[1, 2, 3]", "null", "42", "{}", "true", '"quoted"'])
async def test_strings_that_are_json_reach_the_tool_as_strings(
    server: MCPServer[ToolRuntime], site: SiteServer, code: str
) -> None:
    async with Client(server) as mcp:
        _, opened = await ok(mcp, "smooth_session_open", {"url": site.url("demo/index.html")})
        sid = opened["session_id"]
        try:
            _, result = await ok(mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": code})
            expected = None if code == "{}" else json.loads(code)  # `{}` as a script is an empty block
            assert result["result"] == expected
            # The same strings as a task, a prompt or a URL are taken as text too.
            _, ran = await ok(mcp, "smooth_session_run_task", {"session_id": sid, "task": code})
            assert ran["output"].startswith("# ")
            _, picked = await ok(
                mcp, "smooth_session_extract", {"session_id": sid, "json_schema": ROW, "prompt": code}
            )
            assert isinstance(picked["data"], dict)
            bad_url = await mcp.call_tool("smooth_session_goto", {"session_id": sid, "url": code})
            assert bad_url.is_error
            assert "valid string" not in text_of(bad_url)
            assert "Could not load" in text_of(bad_url) or "Cannot open" in text_of(bad_url)
        finally:
            await ok(mcp, "smooth_session_close", {"session_id": sid})


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("smooth_session_list", {"verbose": True}),
        ("smooth_extract", {"url": "http://127.0.0.1/", "json_schema": "{}", "schema": "{}"}),
        ("smooth_browse", {"task": "x", "tsak": "y"}),
    ],
)
async def test_unknown_arguments_are_refused(
    server: MCPServer[ToolRuntime], name: str, arguments: dict[str, Any]
) -> None:
    async with Client(server) as mcp:
        result = await mcp.call_tool(name, arguments)
        assert result.is_error
        unknown = next(k for k in arguments if k in ("verbose", "schema", "tsak"))
        assert unknown in text_of(result)
        assert "Extra inputs are not permitted" in text_of(result)


async def test_null_means_not_given(server: MCPServer[ToolRuntime]) -> None:
    async with Client(server) as mcp:
        _, opened = await ok(mcp, "smooth_session_open", {"url": None, "device": None, "files": None})
        await ok(mcp, "smooth_session_close", {"session_id": opened["session_id"]})


async def test_schema_arguments_as_text_or_object_alike(
    server: MCPServer[ToolRuntime], site: SiteServer
) -> None:
    async with Client(server) as mcp:
        url = site.url("demo/product.html")
        _, as_text = await ok(mcp, "smooth_extract", {"url": url, "json_schema": json.dumps(ROW)})
        _, as_object = await ok(mcp, "smooth_extract", {"url": url, "json_schema": ROW})
        assert as_text["data"] == as_object["data"] == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}
        not_json = await mcp.call_tool("smooth_extract", {"url": url, "json_schema": "{price: number}"})
        assert not_json.is_error
        assert "json_schema" in text_of(not_json)
        assert "not JSON" in text_of(not_json)


async def test_uploaded_files_reach_a_file_input(
    server: MCPServer[ToolRuntime], site: SiteServer, tmp_path: Path
) -> None:
    async with Client(server) as mcp:
        _, uploaded = await ok(mcp, "smooth_file_upload", {"path": str(tmp_path / "cv.txt")})
        _, opened = await ok(
            mcp, "smooth_session_open", {"url": site.url("upload.html"), "files": [uploaded["file_id"]]}
        )
        sid = opened["session_id"]
        try:
            # A click on the file input (a person's, an agent's or a script's) picks the session's files.
            await ok(
                mcp,
                "smooth_session_evaluate_js",
                {"session_id": sid, "code": "document.getElementById('doc').click()"},
            )
            _, chosen = await ok(
                mcp, "smooth_session_evaluate_js", {"session_id": sid, "code": FILES_CHOSEN_JS}
            )
            assert chosen["result"] == "cv.txt:my curriculum vitae"
        finally:
            await ok(mcp, "smooth_session_close", {"session_id": sid})


async def test_file_upload_is_offered_only_when_it_can_work(smooth_client: AsyncSmoothClient) -> None:
    for roots, transport, offered in [
        ((), "stdio", False),
        (("/tmp",), "stdio", True),
        (("/tmp",), "sse", False),
    ]:
        settings = MCPSettings(transport=transport, tools=ToolSettings(file_roots=roots))  # type: ignore[arg-type]
        server, _ = build_server(settings, client=smooth_client)
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        assert ("smooth_file_upload" in names) is offered


async def test_pages_that_fail_say_so(server: MCPServer[ToolRuntime], site: SiteServer) -> None:
    async with Client(server) as mcp:
        dead = "http://127.0.0.1:9/nothing"  # the discard port: nothing listens
        opened = await mcp.call_tool("smooth_session_open", {"url": dead})
        assert opened.is_error
        assert "Could not load" in text_of(opened)
        _, listed = await ok(mcp, "smooth_session_list", {})
        assert listed["sessions"] == []  # the failed session was not kept
        browse = await mcp.call_tool("smooth_browse", {"task": "read it", "url": dead})
        assert browse.is_error
        assert "Could not load" in text_of(browse)
        assert "Internal error" not in text_of(browse)
        assert "Traceback" not in text_of(browse)
        missing = site.url("status/404")
        text, opened_404 = await ok(mcp, "smooth_session_open", {"url": missing})
        assert opened_404["status_code"] == 404
        assert "HTTP 404" in text
        sid = opened_404["session_id"]
        text, goto = await ok(mcp, "smooth_session_goto", {"session_id": sid, "url": site.url("status/500")})
        assert goto["status_code"] == 500
        assert "HTTP 500" in text
        await ok(mcp, "smooth_session_close", {"session_id": sid})
        text, extracted = await ok(mcp, "smooth_extract", {"url": missing, "json_schema": ROW})
        assert extracted["status_code"] == 404
        assert "HTTP 404" in text
        browse_404 = await mcp.call_tool("smooth_browse", {"task": "read it", "url": missing})
        assert browse_404.is_error
        assert "HTTP 404" in text_of(browse_404)


async def test_task_status_on_a_session_says_what_it_is(server: MCPServer[ToolRuntime]) -> None:
    async with Client(server) as mcp:
        _, opened = await ok(mcp, "smooth_session_open", {})
        sid = opened["session_id"]
        text, status = await ok(mcp, "smooth_task_status", {"task_id": sid})
        assert "browser session" in status["message"]
        assert "smooth_session_" in text
        assert "call again later" not in text
        await ok(mcp, "smooth_session_close", {"session_id": sid})


def test_text_form_is_what_the_renderer_continues() -> None:
    assert text_form("abc") == "abc"
    assert text_form({"a": [1, "é"]}) == '{"a":[1,"é"]}'
