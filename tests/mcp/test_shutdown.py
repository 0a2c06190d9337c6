"""smooth-mcp stopped by a signal closes the Smooth sessions it opened, over stdio and HTTP."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer
from tests.mcp.test_transports import http_server, server_env, stdio_server

STOPS = [signal.SIGTERM, signal.SIGINT]


async def assert_ended(local_server: ThreadedServer, session_id: str) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        assert (await client.get_task(session_id)).status in ("done", "cancelled")


@pytest.mark.parametrize("stop", STOPS, ids=lambda s: s.name)
async def test_stdio_closes_its_sessions_on_a_signal(
    local_server: ThreadedServer, site: SiteServer, stop: signal.Signals
) -> None:
    with stdio_server(server_env(local_server)) as server:
        hello = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        server.request({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello})
        server.request({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"name": "smooth_session_open", "arguments": {"url": site.url("demo/index.html")}}
        opened = server.request({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        assert opened is not None
        session_id = opened["result"]["structuredContent"]["session_id"]
        started = time.monotonic()
        server.process.send_signal(stop)  # stdin stays open, as a host that hangs would keep it
        assert server.process.wait(timeout=30) == 0
        assert time.monotonic() - started < 20
        assert "Traceback" not in server.stderr_text()
    await assert_ended(local_server, session_id)


@pytest.mark.parametrize("stop", STOPS, ids=lambda s: s.name)
async def test_streamable_http_closes_its_sessions_on_a_signal(
    local_server: ThreadedServer, site: SiteServer, stop: signal.Signals
) -> None:
    with http_server(server_env(local_server), "streamable-http") as (base, process):
        async with Client(streamable_http_client(base + "/mcp")) as mcp:
            opened = await mcp.call_tool("smooth_session_open", {"url": site.url("demo/index.html")})
            assert opened.structured_content is not None
            session_id = opened.structured_content["session_id"]
            process.send_signal(stop)
            for _ in range(300):
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            assert process.poll() is not None, "the server did not stop"
    await assert_ended(local_server, session_id)
