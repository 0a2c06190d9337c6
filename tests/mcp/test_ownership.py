"""Over HTTP one smooth-mcp serves several MCP clients: each lists, drives and closes only the
Smooth sessions it opened. A client on a lasting connection (the initialize handshake: SSE, or
streamable HTTP in the legacy mode) has its sessions closed when it disconnects; under protocol
2026-07-28, where requests stand alone, each bearer token owns its sessions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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


@pytest.fixture(params=["sse", "streamable-http-legacy", "streamable-http-2026"])
def connect(request: pytest.FixtureRequest, local_server: ThreadedServer) -> Iterator[Connect]:
    way: str = request.param
    env = server_env(local_server)
    if way == "streamable-http-2026":
        env["SMOOTH_MCP_AUTH_TOKEN"] = ",".join(TOKENS)
    with http_server(env, "sse" if way == "sse" else "streamable-http") as (base, _):

        @asynccontextmanager
        async def client(n: int) -> AsyncIterator[Client]:
            headers = {"authorization": f"Bearer {TOKENS[n]}"} if way == "streamable-http-2026" else None
            async with create_mcp_http_client(headers=headers) as http:
                transport: Any
                if way == "sse":
                    transport, mode = sse_client(base + "/sse"), "legacy"
                elif way == "streamable-http-legacy":
                    transport, mode = streamable_http_client(base + "/mcp", http_client=http), "legacy"
                else:
                    transport = streamable_http_client(base + "/mcp", http_client=http)
                    mode = "2026-07-28"
                async with Client(transport, mode=mode) as mcp:
                    assert (mcp.protocol_version == "2026-07-28") == (way == "streamable-http-2026")
                    yield mcp

        yield client


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


async def test_sessions_close_when_their_client_disconnects(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    for transport in ("sse", "streamable-http"):
        with http_server(server_env(local_server), transport) as (base, _):
            endpoint = base + ("/sse" if transport == "sse" else "/mcp")

            def connection(transport: str = transport, endpoint: str = endpoint) -> Any:
                return sse_client(endpoint) if transport == "sse" else streamable_http_client(endpoint)

            async with Client(connection(), mode="legacy") as staying:
                kept = await staying.call_tool("smooth_session_open", {})
                assert kept.structured_content is not None
                kept_id = kept.structured_content["session_id"]

                async with Client(connection(), mode="legacy") as leaving:
                    opened = await leaving.call_tool(
                        "smooth_session_open", {"url": site.url("demo/index.html")}
                    )
                    assert opened.structured_content is not None
                    left_id = opened.structured_content["session_id"]
                    assert await status_of(local_server, left_id) == "running"
                # The client is gone (streamable HTTP: its DELETE; SSE: its stream closed), and
                # with it its session, long before any idle timeout.
                assert await wait_ended(local_server, left_id) in ("done", "cancelled"), transport

                # The other client's session is untouched, and still its own.
                assert await status_of(local_server, kept_id) == "running"
                listed = await staying.call_tool("smooth_session_list", {})
                assert listed.structured_content is not None
                assert [s["session_id"] for s in listed.structured_content["sessions"]] == [kept_id]
                await staying.call_tool("smooth_session_close", {"session_id": kept_id})


async def test_a_token_owns_its_sessions_across_requests_and_clients(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    env = {**server_env(local_server), "SMOOTH_MCP_AUTH_TOKEN": ",".join(TOKENS)}
    with http_server(env, "streamable-http") as (base, _):

        @asynccontextmanager
        async def as_client(token: str) -> AsyncIterator[Client]:
            async with create_mcp_http_client(headers={"authorization": f"Bearer {token}"}) as http:
                transport = streamable_http_client(base + "/mcp", http_client=http)
                async with Client(transport, mode="2026-07-28") as mcp:
                    yield mcp

        async with as_client(TOKENS[0]) as first:
            opened = await first.call_tool("smooth_session_open", {"url": site.url("demo/index.html")})
            assert opened.structured_content is not None
            session_id = opened.structured_content["session_id"]
        # Requests under 2026-07-28 stand alone: a client leaving ends nothing, and the next
        # client with the same token carries on with the session.
        async with as_client(TOKENS[0]) as again, as_client(TOKENS[1]) as other:
            listed = await again.call_tool("smooth_session_list", {})
            assert listed.structured_content is not None
            assert [s["session_id"] for s in listed.structured_content["sessions"]] == [session_id]
            assert (await other.call_tool("smooth_session_list", {})).structured_content == {"sessions": []}
            closed = await again.call_tool("smooth_session_close", {"session_id": session_id})
            assert closed.structured_content is not None
            assert closed.structured_content.items() >= {"session_id": session_id, "closed": True}.items()


async def test_a_full_server_names_none_of_the_other_clients_sessions(
    local_server: ThreadedServer,
) -> None:
    with http_server(server_env(local_server), "streamable-http", "--max-sessions", "1") as (base, _):
        endpoint = base + "/mcp"
        async with (
            Client(streamable_http_client(endpoint), mode="legacy") as first,
            Client(streamable_http_client(endpoint), mode="legacy") as second,
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
