"""Two smooth-mcp replicas (streamable HTTP, --stateless) sharing what they remember through a real
redis-server, over one local Smooth server, as a load balancer without sticky routing would use
them: a new connection for every call, sent to either replica. A session opened through one is
driven, read on and closed through the other; another client's token is refused on both; a
stopped replica takes nothing with it; any replica closes a session left idle, whoever opened it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp_types import CallToolResult

from smooth_agents.agent_tools.registry import Claim
from smooth_agents.agent_tools.state_redis import RedisState
from smooth_agents.local import ThreadedServer
from smooth_agents.local.server import free_port
from tests.helpers import API_KEY, SiteServer
from tests.mcp.test_ownership import TOKENS, mcp_client, status_of, wait_ended
from tests.mcp.test_results import text_of
from tests.mcp.test_transports import http_server, logs_of, server_env, start_refused
from tests.person import done_over_the_socket
from tests.redis_server import redis_server

ANN, BOB = TOKENS
# A value longer than one answer's budget (2000 characters), so it is read on in parts.
WORDS = 1500
LONG_SCRIPT = f"Array.from({{length: {WORDS}}}, (_, i) => 'w' + i).join(' ')"
LONG_VALUE = " ".join(f"w{i}" for i in range(WORDS))


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def replica_env(local_server: ThreadedServer) -> dict[str, str]:
    return {**server_env(local_server), "SMOOTH_MCP_AUTH_TOKEN": ",".join(TOKENS)}


async def call(base: str, token: str, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """One call on a connection of its own, as a load balancer may send each to any replica."""
    async with mcp_client("streamable-http-stateless", base, token) as mcp:
        return await mcp.call_tool(name, arguments)


async def ok(base: str, token: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await call(base, token, name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def listed(base: str, token: str) -> list[str]:
    return [s["session_id"] for s in (await ok(base, token, "smooth_session_list", {}))["sessions"]]


async def test_a_session_moves_between_replicas_and_stays_its_owners(
    redis_url: str, local_server: ThreadedServer, site: SiteServer
) -> None:
    env = replica_env(local_server)
    common = ("--stateless", "--content-budget", "2000")
    # One replica is given the store by flag, the other by its environment twin.
    with (
        http_server(env, "streamable-http", *common, "--state-url", redis_url) as (a, replica_a),
        http_server({**env, "SMOOTH_MCP_STATE_URL": redis_url}, "streamable-http", *common) as (b, _),
    ):
        opened = await ok(a, ANN, "smooth_session_open", {"url": site.url("demo/index.html")})
        session_id = opened["session_id"]
        # The other client, first to name it to the replica that did not open it, is refused.
        refused = await call(b, BOB, "smooth_session_evaluate_js", {"session_id": session_id, "code": "1"})
        assert refused.is_error
        assert f"Unknown session {session_id!r}" in text_of(refused)
        # Each replica lists it to its owner (one of them never saw it), and to no one else.
        assert await listed(b, ANN) == await listed(a, ANN) == [session_id]
        assert await listed(b, BOB) == await listed(a, BOB) == []

        # Driven through the other replica, which never saw it opened.
        moved = await ok(
            b, ANN, "smooth_session_goto", {"session_id": session_id, "url": site.url("demo/product.html")}
        )
        assert moved["url"].endswith("demo/product.html")
        first = await ok(
            b, ANN, "smooth_session_evaluate_js", {"session_id": session_id, "code": LONG_SCRIPT}
        )
        assert first["truncated"] is True
        parts = [first["result"]]
        event_id, start = first["event_id"], first["next_start_index"]
        # Read on through the replica that opened it.
        second = await ok(
            a, ANN, "smooth_task_status", {"task_id": session_id, "event_id": event_id, "start_index": start}
        )
        parts.append(second["output"])
        start = second["next_start_index"]
        assert start is not None  # a third part is left for after replica A is gone

        # Another client's token is refused on both replicas, in the words for an unknown id, and
        # its attempts change nothing.
        for replica in (a, b):
            for name, arguments in [
                ("smooth_session_goto", {"session_id": session_id, "url": site.url("demo/index.html")}),
                ("smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"}),
                ("smooth_task_status", {"task_id": session_id, "event_id": event_id, "start_index": start}),
                ("smooth_task_status", {"task_id": session_id}),
                ("smooth_task_cancel", {"task_id": session_id}),
            ]:
                refused = await call(replica, BOB, name, arguments)
                assert refused.is_error, (replica, name)
                assert f"Unknown session {session_id!r}" in text_of(refused), (replica, name)
            closed = await ok(replica, BOB, "smooth_session_close", {"session_id": session_id})
            assert closed == {"session_id": session_id, "closed": False}
        assert await status_of(local_server, session_id) == "running"

        # Replica A stops (gracefully, as a rolling deploy stops it): it closes nothing B needs.
        replica_a.terminate()
        replica_a.wait(20)  # ended by the signal, after its graceful shutdown
        assert await status_of(local_server, session_id) == "running"
        while start is not None:
            part = await ok(
                b,
                ANN,
                "smooth_task_status",
                {"task_id": session_id, "event_id": event_id, "start_index": start},
            )
            parts.append(part["output"])
            start = part["next_start_index"]
        assert "".join(parts) == LONG_VALUE
        here = await ok(
            b, ANN, "smooth_session_evaluate_js", {"session_id": session_id, "code": "location.pathname"}
        )
        assert here["result"] == "/demo/product.html"

        # Still refused to the other client on the surviving replica, then closed by its owner.
        refused = await call(b, BOB, "smooth_session_evaluate_js", {"session_id": session_id, "code": "1"})
        assert refused.is_error
        closed = await ok(b, ANN, "smooth_session_close", {"session_id": session_id})
        assert closed["closed"] is True
        assert await wait_ended(local_server, session_id) not in ("waiting", "running")
        assert await listed(b, ANN) == []
        # Closed, it is still its owner's to read, and still not the other's.
        assert not (await call(b, ANN, "smooth_task_status", {"task_id": session_id})).is_error
        assert (await call(b, BOB, "smooth_task_status", {"task_id": session_id})).is_error


async def test_a_session_a_stopped_replica_opened_is_closed_when_idle(
    redis_url: str, local_server: ThreadedServer, site: SiteServer
) -> None:
    env = {**replica_env(local_server), "SMOOTH_MCP_STATE_URL": redis_url}
    flags = ("--stateless", "--session-ttl", "3")
    with (
        http_server(env, "streamable-http", *flags) as (a, replica_a),
        http_server(env, "streamable-http", *flags) as (b, _),
    ):
        left = (await ok(a, ANN, "smooth_session_open", {"url": site.url("demo/index.html")}))["session_id"]
        used = (await ok(a, ANN, "smooth_session_open", {}))["session_id"]
        stop = asyncio.Event()

        async def keep_using() -> int:
            """The other session, used through B all along."""
            uses = 0
            while not stop.is_set():
                await ok(b, ANN, "smooth_session_evaluate_js", {"session_id": used, "code": "1 + 1"})
                uses += 1
            return uses

        keeper = asyncio.create_task(keep_using())
        try:
            replica_a.terminate()
            await asyncio.to_thread(replica_a.wait, 20)
            # The session left alone is closed once idle, though the replica that opened it is
            # gone; the one in use outlives the idle TTL many times over.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while await status_of(local_server, left) in ("waiting", "running"):
                if keeper.done():
                    keeper.result()  # its failure, if it failed
                assert loop.time() < deadline, "the idle session was never closed"
                await asyncio.sleep(0.1)
        finally:
            stop.set()
            uses = await keeper
        assert uses > 1
        assert await status_of(local_server, used) == "running"
        assert (await ok(b, ANN, "smooth_session_close", {"session_id": used}))["closed"] is True


async def hand_over_ended(local_server: ThreadedServer, session_id: str) -> None:
    """Wait until the local server has answered the session's hand-over (the person was done)."""
    async with httpx2.AsyncClient(base_url=local_server.api_url, headers={"apikey": API_KEY}) as http:
        for _ in range(300):
            events = (await http.get(f"/task/{session_id}", params={"event_t": 0})).json()["r"]["events"]
            # An action's answer: {"code": 200, "output": {"output": what the action gave, ...}}.
            answers = [e["payload"]["output"] for e in events if e["name"] == "browser_action"]
            if any(answer["output"].get("handed_back") is True for answer in answers):
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the hand-over never ended")


async def test_a_hand_over_told_through_one_replica_is_waited_for_and_read_once_through_the_other(
    redis_url: str, local_server: ThreadedServer, site: SiteServer
) -> None:
    """A host that cannot ask the person is told the link; its next call, wherever it lands, waits
    for that hand-over (never a second one for the person) and reads it once."""
    env = {**replica_env(local_server), "SMOOTH_MCP_STATE_URL": redis_url}
    with (
        http_server(env, "streamable-http", "--stateless") as (a, _),
        http_server(env, "streamable-http", "--stateless") as (b, _),
    ):
        session_id = (await ok(a, ANN, "smooth_session_open", {"url": site.url("demo/index.html")}))[
            "session_id"
        ]
        handoff = {"session_id": session_id, "message": "Sign in"}
        told = await ok(a, ANN, "smooth_session_handoff", handoff)
        assert told["status"] == "waiting for the person"

        # The person is done before the next call, which lands on the replica that did not start it.
        await done_over_the_socket(told["link"])
        await hand_over_ended(local_server, session_id)
        back = await ok(b, ANN, "smooth_session_handoff", handoff)
        assert back["status"] == "handed back", back
        assert back["url"] == site.url("demo/index.html")

        # Read once: the replica that started it (which still holds it) asks the person anew.
        again = await ok(a, ANN, "smooth_session_handoff", handoff)
        assert again["status"] == "waiting for the person", again
        # The next call, on the other replica, gives this one, whether the person is done before it
        # looks or after (the first case alone is ordered above).
        waiting = asyncio.create_task(ok(b, ANN, "smooth_session_handoff", handoff))
        await done_over_the_socket(again["link"])
        second = await asyncio.wait_for(waiting, 60)
        assert second["status"] == "handed back", second
        assert (await ok(b, ANN, "smooth_session_close", {"session_id": session_id}))["closed"] is True


async def test_an_unreachable_store_fails_the_call_and_keeps_its_password(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    # Nothing listens there: the call fails in words the model can act on; the URL's password
    # is written nowhere.
    url = f"redis://:hunter2-store-secret@127.0.0.1:{free_port()}/0"
    env = {**replica_env(local_server), "SMOOTH_MCP_STATE_URL": url}
    with http_server(env, "streamable-http", "--stateless", "--log-level", "info") as (base, process):
        failed = await call(base, ANN, "smooth_session_list", {})
        assert failed.is_error
        assert "shared state store" in text_of(failed)
        process.terminate()
        process.wait(20)
        logs = logs_of(process)
    assert "did not answer" in logs
    assert "hunter2-store-secret" not in logs
    assert API_KEY not in logs


def test_the_state_url_must_name_redis(local_server: ThreadedServer) -> None:
    refused = start_refused(replica_env(local_server), "--state-url", "memcached://127.0.0.1:1")
    assert refused.returncode != 0
    assert "redis://" in refused.stderr


async def test_the_store_keeps_first_claims_hands_each_idle_session_to_one_and_forgets_ended_ids(
    redis_url: str,
) -> None:
    """The store's steps, as two replicas meet them, against the same redis-server."""
    one, two = RedisState(redis_url, ttl=1, prefix="unit:"), RedisState(redis_url, ttl=1, prefix="unit:")
    lasting = RedisState(redis_url, ttl=60, prefix="unit:")
    try:
        assert await one.owner_key() == await two.owner_key()
        # The first claim stands; a later first claim is told whose it is.
        assert await one.remember("s1", Claim("ann", True), first=True) == Claim("ann", True)
        assert await two.remember("s1", Claim("bob", True), first=True) == Claim("ann", True)
        assert await two.recall("s1") == Claim("ann", True)
        assert await two.sessions_of("ann") == {"s1": pytest.approx(0, abs=5)}
        assert await two.sessions_of("bob") == {}
        # Idle for a second: of two replicas reaching for it at once, one takes it.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while "s1" not in await one.idle_sessions(1):
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
        taken = await asyncio.gather(one.take_idle("s1", 1), two.take_idle("s1", 1))
        assert sorted(taken) == [False, True]
        # A live task is remembered; ended, it is its owner's for the idle TTL (one of a minute
        # here, so that no pause of the machine's can outlast it before the reading)...
        await one.remember("t1", Claim("ann", False))
        await lasting.ended("t1")
        assert await two.recall("t1") == Claim("ann", False)
        # ...then forgotten (a TTL of a second).
        await one.remember("t2", Claim("ann", False))
        await one.ended("s1")
        await one.ended("t2")
        assert await two.sessions_of("ann") == {}
        while await two.recall("t2") is not None or await two.recall("s1") is not None:
            assert loop.time() < deadline + 10, "ended ids were never forgotten"
            await asyncio.sleep(0.05)
    finally:
        await one.aclose()
        await two.aclose()
        await lasting.aclose()
