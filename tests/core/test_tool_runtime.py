"""The one tool runtime the adapters share: sessions, lifecycle, and the caller's settings left
as given (the local server's too)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.agent_tools import (
    SESSION_LIST,
    SESSION_OPEN,
    BlockingToolRuntime,
    ToolRuntime,
    ToolSettings,
)
from smooth_agents.local import EmbeddedServer, ThreadedServer
from tests.helpers import API_KEY, make_settings


async def test_the_last_user_closes_the_sessions_the_tools_opened(local_server: ThreadedServer) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        runtime = ToolRuntime(client)
        await runtime.acquire()
        await runtime.acquire()
        opened = await runtime.invoke(SESSION_OPEN, {})
        await runtime.release()
        assert opened.session_id in runtime.sessions  # one user is still there
        await runtime.release()
        assert opened.session_id not in runtime.sessions
        # The caller's client is still open: the caller closes what it made.
        assert (await client.get_task(opened.session_id)).status != "running"


async def test_aclose_closes_the_sessions_and_later_calls_are_refused(local_server: ThreadedServer) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        runtime = ToolRuntime(client)
        opened = await runtime.invoke(SESSION_OPEN, {})
        await runtime.aclose()
        assert (await client.get_task(opened.session_id)).status != "running"
        with pytest.raises(RuntimeError, match="were closed"):
            await runtime.invoke(SESSION_LIST, {})


async def test_the_callers_tool_settings_are_never_written(local_server: ThreadedServer) -> None:
    given = ToolSettings(wait_seconds=5)
    before = dataclasses.asdict(given)
    async with AsyncSmoothClient() as embedded_client:  # no key: the embedded server
        runtime = ToolRuntime(embedded_client, settings=given)
        assert runtime.settings.embedded is True
        assert runtime.settings.wait_seconds == 5
    assert dataclasses.asdict(given) == before


def test_the_blocking_runtime_serves_sync_and_async_callers_one_registry(
    local_server: ThreadedServer,
) -> None:
    with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        runtime = BlockingToolRuntime(client)
        opened = runtime.run(SESSION_OPEN, {})

        async def listed_from_another_loop() -> list[str]:
            answer = await runtime.arun(SESSION_LIST, {})
            return [s.session_id for s in answer.sessions]

        assert asyncio.run(listed_from_another_loop()) == [opened.session_id]
        runtime.close()
        assert client.get_task(opened.session_id).status != "running"
        with pytest.raises(RuntimeError, match="were closed"):
            runtime.run(SESSION_LIST, {})


async def test_the_local_servers_leave_their_settings_as_given(tmp_path: Path) -> None:
    given = make_settings(tmp_path, api_keys=frozenset())
    before = dataclasses.asdict(given)
    async with EmbeddedServer(given) as embedded:
        assert embedded.settings.api_keys
        assert embedded.settings.public_url
    assert dataclasses.asdict(given) == before
    given = make_settings(tmp_path)  # port 0: any free port
    before = dataclasses.asdict(given)
    threaded = ThreadedServer(given)
    assert threaded.settings.port != 0  # chosen on its own copy
    threaded.stop()  # never started: its port is given back
    assert dataclasses.asdict(given) == before
