"""Ownership is never forgotten while a session or task lives, and the memory of ended ids is
bounded per owner: one caller making ids by the thousand pushes out only its own oldest ended
ones, never another caller's session, live or ended. Against the real local server, through the
registry and through the tools as the adapters call them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import (
    EXTRACT,
    SESSION_CLOSE,
    SESSION_EVALUATE_JS,
    SESSION_OPEN,
    TASK_CANCEL,
    TASK_STATUS,
    SessionRegistry,
    ToolFailure,
    ToolRuntime,
)
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer


@pytest.fixture
async def client(local_server: ThreadedServer) -> AsyncIterator[AsyncSmoothClient]:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
        yield smooth


def refuses(registry: SessionRegistry, task_id: str, owner: str) -> bool:
    """True when ``owner`` is told ``task_id`` does not exist (another owner holds it)."""
    try:
        registry.check_owner(task_id, owner)
    except ToolFailure as failure:
        return f"Unknown session {task_id!r}" in str(failure)
    return False


async def test_a_flood_of_ids_never_takes_another_owners(client: AsyncSmoothClient, site: SiteServer) -> None:
    registry = SessionRegistry(client, remembered=5)
    try:
        bobs = await registry.open(owner="bob", url=site.url("demo/index.html"))
        registry.claim("task_bob_running", "bob", session=False)
        registry.claim("task_bob_done", "bob", session=False)
        registry.ended("task_bob_done")
        # Ann makes ten times the bound of ids, sessions and tasks, each ended at once.
        for n in range(50):
            registry.claim(f"task_ann_{n}", "ann", session=n % 2 == 0)
            registry.ended(f"task_ann_{n}")
        for bob_id in (bobs.id, "task_bob_running", "task_bob_done"):
            assert refuses(registry, bob_id, "ann"), bob_id
            registry.check_owner(bob_id, "bob")
        with pytest.raises(ToolFailure, match="Unknown session"):
            await registry.get(bobs.id, "ann")
        assert await registry.close(bobs.id, "ann") is False
        assert await registry.get(bobs.id, "bob") is bobs
        assert [t.session.id for t in registry.open_sessions("bob")] == [bobs.id]
        # Ann's own memory is what is bounded: her latest five ended ids stay hers; the older
        # are forgotten, answered as an id never seen here is (one from another replica).
        for n in range(45, 50):
            assert refuses(registry, f"task_ann_{n}", "bob")
        assert not refuses(registry, "task_ann_0", "bob")
    finally:
        await registry.close_all()


async def test_an_owners_live_ids_outlast_its_own_ended_ones(
    client: AsyncSmoothClient, site: SiteServer
) -> None:
    registry = SessionRegistry(client, remembered=3)
    try:
        session = await registry.open(owner="ann", url=site.url("demo/index.html"))
        registry.claim("task_ann_long", "ann", session=False)  # left running
        for n in range(20):
            registry.claim(f"task_ann_{n}", "ann", session=False)
            registry.ended(f"task_ann_{n}")
        assert refuses(registry, session.id, "bob")
        assert refuses(registry, "task_ann_long", "bob")
        # Tasks never seen to end are bounded too (their oldest first); a session held here never.
        for n in range(20):
            registry.claim(f"task_ann_left_{n}", "ann", session=False)
        assert refuses(registry, session.id, "bob")
        assert not refuses(registry, "task_ann_long", "bob")
        assert refuses(registry, "task_ann_left_19", "bob")
        # Closed, the session is among Ann's ended ids: still hers.
        assert await registry.close(session.id, "ann") is True
        assert refuses(registry, session.id, "bob")
        assert registry.is_session(session.id)
    finally:
        await registry.close_all()


async def test_through_the_tools_a_flood_never_takes_another_callers_session(
    client: AsyncSmoothClient, site: SiteServer
) -> None:
    runtime = ToolRuntime(client)
    runtime.sessions = SessionRegistry(client, remembered=2)  # the bound, made small to reach
    try:
        opened = await runtime.invoke(SESSION_OPEN, {"url": site.url("demo/index.html")}, owner="bob")
        bob_id = opened.session_id
        schema = {"type": "object", "properties": {"title": {"type": "string"}}}
        # Ann's ids: sessions opened and closed, a one-shot extraction, three times the bound.
        for _ in range(3):
            hers = await runtime.invoke(SESSION_OPEN, {"url": site.url("demo/index.html")}, owner="ann")
            await runtime.invoke(SESSION_CLOSE, {"session_id": hers.session_id}, owner="ann")
        await runtime.invoke(
            EXTRACT, {"url": site.url("demo/product.html"), "json_schema": schema}, owner="ann"
        )
        for tool, arguments in (
            (SESSION_EVALUATE_JS, {"session_id": bob_id, "code": "document.title"}),
            (TASK_STATUS, {"task_id": bob_id}),
            (TASK_CANCEL, {"task_id": bob_id}),
        ):
            with pytest.raises(ToolFailure, match="Unknown session"):
                await runtime.invoke(tool, arguments, owner="ann")
        closed = await runtime.invoke(SESSION_CLOSE, {"session_id": bob_id}, owner="ann")
        assert closed.closed is False
        # Bob's session ran on untouched: he drives it, then closes it.
        read = await runtime.invoke(SESSION_EVALUATE_JS, {"session_id": bob_id, "code": "1 + 1"}, owner="bob")
        assert read.result == 2
        closed = await runtime.invoke(SESSION_CLOSE, {"session_id": bob_id}, owner="bob")
        assert closed.closed is True
    finally:
        await runtime.sessions.close_all()
