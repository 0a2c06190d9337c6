"""The MCP server through an MCP client, in process: every tool, schemas, annotations, results."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, Tool

from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ALL_TOOLS, ToolRuntime
from tests.helpers import SiteServer, cancel_once_its_task_exists, eventually, task_ends

PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
EXPECTED_NAMES = [
    "smooth_browse",
    "smooth_extract",
    "smooth_map",
    "smooth_crawl",
    "smooth_session_open",
    "smooth_session_goto",
    "smooth_session_extract",
    "smooth_session_evaluate_js",
    "smooth_session_run_task",
    "smooth_session_handoff",
    "smooth_session_close",
    "smooth_session_list",
    "smooth_task_status",
    "smooth_task_cancel",
    "smooth_profile_create",
    "smooth_profile_list",
    "smooth_profile_delete",
    "smooth_file_upload",
]


async def tools_by_name(mcp: Client) -> dict[str, Tool]:
    return {t.name: t for t in (await mcp.list_tools()).tools}


async def call(mcp: Client, tools: dict[str, Tool], name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool that must succeed; check its structured result against its output schema."""
    result = await mcp.call_tool(name, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    schema = tools[name].output_schema
    assert schema is not None
    jsonschema.validate(result.structured_content, schema)
    assert result.content[0].type == "text"
    assert result.content[0].text  # type: ignore[union-attr]
    return dict(result.structured_content)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    return str(result.content[0].text)  # type: ignore[union-attr]


async def test_tool_list_schemas_and_annotations_come_from_the_core(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        assert list(tools) == EXPECTED_NAMES
        for definition in ALL_TOOLS:
            tool = tools[definition.name]
            assert tool.input_schema == definition.input_schema()
            assert tool.output_schema is not None
            assert tool.description == definition.description
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is definition.hints.read_only
            assert tool.annotations.destructive_hint is definition.hints.destructive
            assert tool.annotations.idempotent_hint is definition.hints.idempotent
            assert tool.annotations.open_world_hint is definition.hints.open_world
        # Arguments every provider accepts: no unions in the input schemas.
        assert "anyOf" not in json.dumps([t.input_schema for t in tools.values()])


async def test_extract_returns_structured_data(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        data = await call(
            mcp, tools, "smooth_extract", {"url": site.url("demo/product.html"), "json_schema": PRODUCT}
        )
        assert data["data"] == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}


async def test_session_tools_end_to_end(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        opened = await call(mcp, tools, "smooth_session_open", {"url": site.url("demo/index.html")})
        sid = opened["session_id"]
        assert opened["live_url"].startswith("http://127.0.0.1:")
        listed = await call(mcp, tools, "smooth_session_list", {})
        assert sid in [s["session_id"] for s in listed["sessions"]]
        landed = await call(
            mcp, tools, "smooth_session_goto", {"session_id": sid, "url": site.url("demo/product.html")}
        )
        assert landed["title"] == "Nimbus 14 Pro Laptop | Demo Store"
        js = await call(
            mcp,
            tools,
            "smooth_session_evaluate_js",
            {"session_id": sid, "code": "(args) => args.n * 2", "args": {"n": 21}},
        )
        assert js["result"] == 42
        extracted = await call(
            mcp, tools, "smooth_session_extract", {"session_id": sid, "json_schema": PRODUCT}
        )
        assert extracted["data"]["price"] == 1299.0
        ran = await call(mcp, tools, "smooth_session_run_task", {"session_id": sid, "task": "read the page"})
        assert ran["output"].startswith("# ")
        closed = await call(mcp, tools, "smooth_session_close", {"session_id": sid})
        assert closed["session_id"] == sid
        assert closed["closed"] is True
        # Sessions are recorded by default (enable_recording); this one downloaded nothing.
        assert closed["recording_url"].startswith("http://127.0.0.1:")
        assert "downloads_url" not in closed  # given only when there are downloads
        again = await call(mcp, tools, "smooth_session_close", {"session_id": sid})
        assert again["closed"] is False
        gone = await mcp.call_tool(
            "smooth_session_goto", {"session_id": sid, "url": site.url("demo/index.html")}
        )
        assert "smooth_session_open" in error_text(gone)


async def test_browse_answers_and_long_text_continues(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer, smooth_client: AsyncSmoothClient
) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        answer = await call(
            mcp, tools, "smooth_browse", {"task": "read it", "url": site.url("demo/article.html")}
        )
        assert answer["status"] == "done"
        whole = (await smooth_client.get_task(answer["task_id"])).output
        parts = [answer["output"]]
        while answer["next_start_index"] is not None:
            assert answer["truncated"] is True
            assert answer["read_more"].startswith("smooth_task_status(")
            answer = await call(
                mcp,
                tools,
                "smooth_task_status",
                {"task_id": answer["task_id"], "start_index": answer["next_start_index"]},
            )
            parts.append(answer["output"])
        assert len(parts) > 1
        assert "".join(parts) == whole
        structured = await call(
            mcp,
            tools,
            "smooth_browse",
            {"task": "product", "url": site.url("demo/product.html"), "response_schema": PRODUCT},
        )
        assert structured["output"] == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}


async def test_pages_read_as_main_content_or_whole(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer, smooth_client: AsyncSmoothClient
) -> None:
    article = site.url("demo/article.html")
    footer = "Contact the newsroom"  # in the page's footer, not in its article
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        texts = {}
        for main_only in (True, False):
            answer = await call(
                mcp,
                tools,
                "smooth_browse",
                {"task": "read it", "url": article, "whole_page": not main_only},
            )
            texts[main_only] = str((await smooth_client.get_task(answer["task_id"])).output)
        assert "protected bike lanes" in texts[True]
        assert "protected bike lanes" in texts[False]
        assert footer not in texts[True]
        assert footer in texts[False]
        assert len(texts[False]) > len(texts[True])
        opened = await call(mcp, tools, "smooth_session_open", {"url": article})
        sid = opened["session_id"]
        try:
            for main_only in (True, False):
                ran = await call(
                    mcp,
                    tools,
                    "smooth_session_run_task",
                    {"session_id": sid, "task": "read the page", "whole_page": not main_only},
                )
                # The whole page starts with the site's header: its navigation comes first.
                assert ("[Politics](" in ran["output"]) is not main_only
        finally:
            await call(mcp, tools, "smooth_session_close", {"session_id": sid})


async def test_browse_past_its_wait_returns_running_then_status_and_cancel(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        slow = 'script:[{"action": "sleep", "seconds": 30}]'
        running = await call(mcp, tools, "smooth_browse", {"task": slow, "wait_seconds": 0.5})
        assert running["status"] in ("waiting", "running")
        assert "smooth_task_status" in running["message"]
        status = await call(mcp, tools, "smooth_task_status", {"task_id": running["task_id"]})
        assert status["status"] in ("waiting", "running")
        cancelled = await call(mcp, tools, "smooth_task_cancel", {"task_id": running["task_id"]})
        assert cancelled["cancelled"] is True
        assert (await call(mcp, tools, "smooth_task_status", {"task_id": running["task_id"]}))[
            "status"
        ] == "cancelled"


async def test_progress_notifications_while_a_task_runs(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    async with Client(mcp_server[0]) as mcp:
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        steps = (
            'script:[{"action": "goto", "url": "' + site.url("demo/index.html") + '"},'
            '{"action": "sleep", "seconds": 0.3}, {"action": "return", "output": "ok"}]'
        )
        result = await mcp.call_tool("smooth_browse", {"task": steps}, progress_callback=on_progress)
        assert not result.is_error
        messages = [m for _, _, m in seen if m]
        assert any("running" in m for m in messages)
        assert any("watch live: http://127.0.0.1:" in m for m in messages)


async def test_cancelling_a_call_cancels_the_remote_task(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], smooth_client: AsyncSmoothClient
) -> None:
    async with Client(mcp_server[0]) as mcp:
        sleeping = {"task": 'script:[{"action": "sleep", "seconds": 60}]'}
        task_id = await cancel_once_its_task_exists(
            smooth_client, lambda: mcp.call_tool("smooth_browse", sleeping)
        )
        await task_ends(smooth_client, task_id, "cancelled")


async def test_a_session_open_cancelled_while_its_page_loads_closes_the_session(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
    smooth_client: AsyncSmoothClient,
    site: SiteServer,
) -> None:
    # The model never learns the session's id: left open, it would hold a browser (and a place
    # under max_sessions) until its idle timeout.
    runtime = mcp_server[1]
    async with Client(mcp_server[0]) as mcp:
        opening = asyncio.create_task(mcp.call_tool("smooth_session_open", {"url": site.url("hang")}))

        async def opened() -> list[str]:
            return [t.session.id for t in runtime.sessions.open_sessions()]

        (session_id,) = await eventually(opened, 30, "the session opened, its page loading")
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening

        async def closed() -> bool:
            return not await opened() and (await smooth_client.get_task(session_id)).status != "running"

        await eventually(closed, 30, "the session closed")


async def test_an_extract_cancelled_while_its_page_loads_ends_its_session(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
    smooth_client: AsyncSmoothClient,
    site: SiteServer,
) -> None:
    # The call's own session: cancelled, its close must still reach the service (the MCP SDK
    # cancels again at every await of a cancelled call, so an unshielded close never went out).
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    async with Client(mcp_server[0]) as mcp:
        extract = {"url": site.url("hang"), "json_schema": schema}
        session_id = await cancel_once_its_task_exists(
            smooth_client, lambda: mcp.call_tool("smooth_extract", extract)
        )
        await task_ends(smooth_client, session_id)


async def test_profiles_and_file_upload(mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime]) -> None:
    async with Client(mcp_server[0]) as mcp:
        tools = await tools_by_name(mcp)
        created = await call(mcp, tools, "smooth_profile_create", {"profile_id": "mcp-profile"})
        assert created == {"profile_id": "mcp-profile"}
        assert "mcp-profile" in (await call(mcp, tools, "smooth_profile_list", {}))["profile_ids"]
        assert (await call(mcp, tools, "smooth_profile_delete", {"profile_id": "mcp-profile"}))[
            "deleted"
        ] is True
        root = Path(mcp_server[1].settings.file_roots[0])
        uploaded = await call(mcp, tools, "smooth_file_upload", {"path": str(root / "hello.txt")})
        assert uploaded["name"] == "hello.txt"
        assert uploaded["size"] == len("hello from the MCP host")
        outside = await mcp.call_tool("smooth_file_upload", {"path": "/etc/passwd"})
        assert "outside the allowed folders" in error_text(outside)
        sneaky = await mcp.call_tool(
            "smooth_file_upload", {"path": str(root / ".." / ".." / "etc" / "passwd")}
        )
        assert "outside the allowed folders" in error_text(sneaky)


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("smooth_extract", {"url": "http://127.0.0.1/", "json_schema": {"type": 42}}, "not a valid JSON schema"),
    ("smooth_extract", {"url": "http://127.0.0.1/"}, "json_schema"),
    ("smooth_extract", {"url": 7, "json_schema": PRODUCT}, "url"),
    ("smooth_browse", {"task": ""}, "task"),
    ("smooth_browse", {"task": "x", "max_steps": "many"}, "max_steps"),
    ("smooth_session_goto", {"session_id": "task_unknown", "url": "http://127.0.0.1/"}, "Unknown session"),
    ("smooth_session_evaluate_js", {"session_id": "", "code": "1"}, "session_id"),
    ("smooth_task_status", {"task_id": "task_unknown"}, "Not found"),
    ("smooth_profile_delete", {"profile_id": "never-made"}, "smooth_profile_list"),
    (
        "smooth_browse",
        {"task": "x", "url": "http://127.0.0.1/", "response_schema": '{"type": 42}'},
        "response_schema",
    ),
    ("smooth_session_open", {"device": "tablet"}, "device"),
    ("smooth_profile_create", {"profile_id": "../bad"}, "Invalid profile id"),
]


@pytest.mark.parametrize(("name", "arguments", "mentions"), BAD_CALLS)
async def test_bad_input_is_an_error_result_and_the_server_keeps_serving(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
    name: str,
    arguments: dict[str, Any],
    mentions: str,
) -> None:
    async with Client(mcp_server[0]) as mcp:
        result = await mcp.call_tool(name, arguments)
        assert mentions in error_text(result)
        assert not (await mcp.call_tool("smooth_session_list", {})).is_error


async def test_session_cap_ttl_and_shutdown(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], smooth_client: AsyncSmoothClient
) -> None:
    server, runtime = mcp_server
    async with Client(server) as mcp:
        tools = await tools_by_name(mcp)
        ids = [(await call(mcp, tools, "smooth_session_open", {}))["session_id"] for _ in range(3)]
        capped = await mcp.call_tool("smooth_session_open", {})
        assert "smooth_session_close" in error_text(capped)
        runtime.sessions.ttl = 0.01
        await asyncio.sleep(0.05)
        closed = await runtime.sessions.reap()
        assert set(closed) == set(ids)
        for session_id in ids:
            assert (await smooth_client.get_task(session_id)).status in ("done", "cancelled")
        runtime.sessions.ttl = 900
        kept = (await call(mcp, tools, "smooth_session_open", {}))["session_id"]
    # The client disconnected: every session this server opened is closed.
    assert (await smooth_client.get_task(kept)).status in ("done", "cancelled")


async def test_the_session_cap_holds_under_concurrent_opens(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime],
) -> None:
    server, runtime = mcp_server
    async with Client(server) as mcp:
        results = await asyncio.gather(*(mcp.call_tool("smooth_session_open", {}) for _ in range(6)))
        opened = [r for r in results if not r.is_error]
        refused = [r for r in results if r.is_error]
        assert len(opened) == runtime.sessions.max_sessions == 3
        assert all("smooth_session_close" in error_text(r) for r in refused)
