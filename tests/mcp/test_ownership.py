"""Over HTTP one smooth-mcp serves several MCP clients: each bearer token lists, drives and closes
only the Smooth sessions opened with it, whatever the transport (SSE, streamable HTTP with the
initialize handshake, under protocol 2026-07-28, stateless). Ownership never follows the MCP
connection: a session outlives the connection that opened it (hosts open one per call), and only
its owner's close or the idle TTL ends it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer
from tests.mcp.test_results import text_of
from tests.mcp.test_transports import http_server, server_env

TOKENS = ("token-of-ann-0123456789", "token-of-bob-0123456789")

# Connects the n-th client (0, 1, ...): each with a connection of its own, or a token of its own.
Connect = Callable[[int], AbstractAsyncContextManager[Client]]


WAYS = ["sse", "streamable-http-legacy", "streamable-http-2026", "streamable-http-stateless"]


@asynccontextmanager
async def mcp_client(way: str, base: str, token: str) -> AsyncIterator[Client]:
    """One MCP client over ``way``, sending ``token``: a connection of its own each time."""
    headers = {"authorization": f"Bearer {token}"}
    async with create_mcp_http_client(headers=headers) as http:
        transport: Any
        if way == "sse":
            transport, mode = sse_client(base + "/sse", headers=headers), "legacy"
        elif way == "streamable-http-legacy":
            transport, mode = streamable_http_client(base + "/mcp", http_client=http), "legacy"
        else:
            transport = streamable_http_client(base + "/mcp", http_client=http)
            mode = "2026-07-28"
        async with Client(transport, mode=mode) as mcp:
            assert (mcp.protocol_version == "2026-07-28") == (mode == "2026-07-28")
            yield mcp


@contextmanager
def server_for(way: str, local_server: ThreadedServer, *extra: str) -> Iterator[str]:
    env = {**server_env(local_server), "SMOOTH_MCP_AUTH_TOKEN": ",".join(TOKENS)}
    transport = "sse" if way == "sse" else "streamable-http"
    flags = ("--stateless", *extra) if way == "streamable-http-stateless" else extra
    with http_server(env, transport, *flags) as (base, _):
        yield base


@pytest.fixture(params=WAYS)
def connect(request: pytest.FixtureRequest, local_server: ThreadedServer) -> Iterator[Connect]:
    way: str = request.param
    with server_for(way, local_server) as base:
        yield lambda n: mcp_client(way, base, TOKENS[n])


async def status_of(local_server: ThreadedServer, session_id: str) -> str:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
        return (await smooth.get_task(session_id)).status


async def wait_ended(local_server: ThreadedServer, session_id: str) -> str:
    status = ""
    for _ in range(200):
        status = await status_of(local_server, session_id)
        if status not in ("waiting", "running"):
            break
        await asyncio.sleep(0.05)
    return status


async def test_clients_see_and_drive_only_their_own_sessions(
    connect: Connect, local_server: ThreadedServer, site: SiteServer
) -> None:
    async with connect(0) as first, connect(1) as second:
        opened = await first.call_tool("smooth_session_open", {"url": site.url("demo/index.html")})
        assert not opened.is_error, text_of(opened)
        assert opened.structured_content is not None
        session_id = opened.structured_content["session_id"]

        listed = await second.call_tool("smooth_session_list", {})
        assert listed.structured_content == {"sessions": []}
        mine = await first.call_tool("smooth_session_list", {})
        assert mine.structured_content is not None
        assert [s["session_id"] for s in mine.structured_content["sessions"]] == [session_id]

        # The owner reads a result, so there is an event id the other could try to read on.
        read = await first.call_tool(
            "smooth_session_evaluate_js", {"session_id": session_id, "code": "1 + 1"}
        )
        assert read.structured_content is not None
        event_id = read.structured_content["event_id"]
        schema = json.dumps({"type": "object", "properties": {"title": {"type": "string"}}})
        refused = [
            ("smooth_session_goto", {"session_id": session_id, "url": site.url("demo/product.html")}),
            ("smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"}),
            ("smooth_session_extract", {"session_id": session_id, "json_schema": schema}),
            ("smooth_session_run_task", {"session_id": session_id, "task": "script:[]"}),
            ("smooth_task_cancel", {"task_id": session_id}),
            ("smooth_task_status", {"task_id": session_id}),
            ("smooth_task_status", {"task_id": session_id, "event_id": event_id}),
        ]
        for name, arguments in refused:
            answer = await second.call_tool(name, arguments)
            assert answer.is_error, name
            assert f"Unknown session {session_id!r}" in text_of(answer), name
        # An id with a path, query or fragment character names that id, not the session.
        for suffix in ("#", "?x=1", "/event", "/../" + session_id):
            near = session_id + suffix
            answer = await second.call_tool("smooth_session_evaluate_js", {"session_id": near, "code": "1"})
            assert answer.is_error, near
            status = await second.call_tool("smooth_task_status", {"task_id": near})
            assert status.is_error, near
            assert session_id + '"' not in text_of(status), near
        closed = await second.call_tool("smooth_session_close", {"session_id": session_id})
        assert closed.structured_content == {"session_id": session_id, "closed": False}

        # None of that touched it: it runs on, on the page its owner loaded, still its owner's.
        assert await status_of(local_server, session_id) == "running"
        listed = await first.call_tool("smooth_session_list", {})
        assert listed.structured_content is not None
        assert [s["session_id"] for s in listed.structured_content["sessions"]] == [session_id]
        title = await first.call_tool(
            "smooth_session_evaluate_js", {"session_id": session_id, "code": "location.pathname"}
        )
        assert not title.is_error, text_of(title)
        assert "demo/index.html" in text_of(title)

        # Its owner closes it as usual; closed, it stays its owner's to read.
        closed = await first.call_tool("smooth_session_close", {"session_id": session_id})
        assert closed.structured_content is not None
        # (with the session's recording_url: sessions are recorded by default)
        assert closed.structured_content.items() >= {"session_id": session_id, "closed": True}.items()
        after = await second.call_tool("smooth_task_status", {"task_id": session_id, "event_id": event_id})
        assert after.is_error
        assert not (await first.call_tool("smooth_task_status", {"task_id": session_id})).is_error


async def test_tasks_and_extractions_are_their_callers_own(
    connect: Connect, site: SiteServer, local_server: ThreadedServer
) -> None:
    async with connect(0) as first, connect(1) as second:
        steps = [{"action": "goto", "url": site.url("demo/index.html")}, {"action": "return", "output": "ok"}]
        browsed = await first.call_tool("smooth_browse", {"task": "script:" + json.dumps(steps)})
        assert browsed.structured_content is not None
        task_id = browsed.structured_content["task_id"]
        schema = json.dumps({"type": "object", "properties": {"name": {"type": "string"}}})
        extracted = await first.call_tool(
            "smooth_extract", {"url": site.url("demo/product.html"), "json_schema": schema}
        )
        assert extracted.structured_content is not None
        extract_session = extracted.structured_content["session_id"]
        for other_id in (task_id, extract_session):
            for name in ("smooth_task_status", "smooth_task_cancel"):
                answer = await second.call_tool(name, {"task_id": other_id})
                assert answer.is_error, (name, other_id)
                assert f"Unknown session {other_id!r}" in text_of(answer)
            assert not (await first.call_tool("smooth_task_status", {"task_id": other_id})).is_error


@pytest.mark.parametrize("way", WAYS)
async def test_a_session_outlives_the_connection_that_opened_it(
    way: str, local_server: ThreadedServer, site: SiteServer
) -> None:
    """As langchain-mcp-adapters calls by default: a new connection for every tool call."""
    with server_for(way, local_server) as base:

        async def call(name: str, arguments: dict[str, Any], token: str = TOKENS[0]) -> Any:
            async with mcp_client(way, base, token) as mcp:
                return await mcp.call_tool(name, arguments)

        opened = await call("smooth_session_open", {"url": site.url("demo/index.html")})
        assert opened.structured_content is not None, text_of(opened)
        session_id = opened.structured_content["session_id"]
        # That connection is gone; the session runs on, and the next call drives it.
        assert await status_of(local_server, session_id) == "running"
        moved = await call(
            "smooth_session_goto", {"session_id": session_id, "url": site.url("demo/product.html")}
        )
        assert not moved.is_error, text_of(moved)
        assert "demo/product.html" in text_of(moved)
        read = await call("smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"})
        assert read.structured_content is not None, text_of(read)
        again = await call(
            "smooth_task_status", {"task_id": session_id, "event_id": read.structured_content["event_id"]}
        )
        assert again.structured_content is not None, text_of(again)
        assert again.structured_content["output"] == read.structured_content["result"]
        # Another token still sees none of it.
        assert (await call("smooth_session_list", {}, TOKENS[1])).structured_content == {"sessions": []}
        closed = await call("smooth_session_close", {"session_id": session_id})
        assert closed.structured_content is not None
        assert closed.structured_content.items() >= {"session_id": session_id, "closed": True}.items()


async def test_the_idle_ttl_closes_what_a_gone_client_left(local_server: ThreadedServer) -> None:
    with server_for("streamable-http-legacy", local_server, "--session-ttl", "1") as base:
        async with mcp_client("streamable-http-legacy", base, TOKENS[0]) as leaving:
            opened = await leaving.call_tool("smooth_session_open", {})
            assert opened.structured_content is not None, text_of(opened)
            left_id = opened.structured_content["session_id"]
        # Nothing ends with the connection; the reaper closes it once idle for the TTL.
        assert await wait_ended(local_server, left_id) in ("done", "cancelled")


async def test_a_full_server_names_none_of_the_other_clients_sessions(
    local_server: ThreadedServer,
) -> None:
    with server_for("streamable-http-legacy", local_server, "--max-sessions", "1") as base:
        async with (
            mcp_client("streamable-http-legacy", base, TOKENS[0]) as first,
            mcp_client("streamable-http-legacy", base, TOKENS[1]) as second,
        ):
            opened = await first.call_tool("smooth_session_open", {})
            assert opened.structured_content is not None
            session_id = opened.structured_content["session_id"]
            refused = await second.call_tool("smooth_session_open", {})
            assert refused.is_error
            assert "None of the open ones is yours" in text_of(refused)
            assert session_id not in text_of(refused)
            again = await first.call_tool("smooth_session_open", {})
            assert again.is_error
            assert session_id in text_of(again)  # its owner is told which one to close
