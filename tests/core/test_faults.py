"""Fault injection at the HTTP boundary: retries, resets, slow answers, odd event streams.

The local server runs behind ``FaultInjector`` (an ASGI middleware) on a loopback port; the
client's transport is a real HTTP transport wrapped to drop connections on demand.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from smooth_agents import (
    APIError,
    AsyncSmoothClient,
    InternalServerError,
    RateLimitError,
    SmoothError,
)
from smooth_agents.agent_tools import SessionRegistry
from tests.faults import (
    EVENT,
    TASK,
    Fault,
    FaultInjector,
    ResettingTransport,
    duplicate_events,
    reverse_events,
    same_timestamp,
    script,
)
from tests.helpers import SiteServer, eventually


@pytest.fixture
def client(faulty_client: AsyncSmoothClient) -> AsyncSmoothClient:
    return faulty_client


async def test_429_with_retry_after_creates_the_task_once(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    before = len(await client.list_tasks())
    injector.add(Fault("POST", r"/api/v1/task", times=2, status=429, headers={"Retry-After": "0.05"}))
    handle = await client.run(script({"action": "return", "output": "ok"}))
    assert (await handle.result(timeout=20)).output == "ok"
    assert injector.count("POST", r"/api/v1/task") == 3
    assert len(await client.list_tasks()) == before + 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_on_polls_is_retried(
    client: AsyncSmoothClient, injector: FaultInjector, status: int
) -> None:
    async with client.session() as session:
        injector.add(Fault("GET", TASK, times=2, status=status))
        assert (await session.evaluate_js("6 * 7")).output == 42
        assert injector.count("GET", TASK) >= 3


async def test_5xx_on_an_action_post_is_retried_and_runs_once(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    async with client.session() as session:
        injector.add(Fault("POST", EVENT, times=1, status=503))
        assert (await session.evaluate_js("window.n = (window.n || 0) + 1")).output == 1
        assert injector.count("POST", EVENT) == 2  # resent with the same event id
        assert (await session.evaluate_js("window.n")).output == 1


async def test_retries_exhausted_raise_the_last_error(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    handle = await client.run(script({"action": "sleep", "seconds": 0.1}))
    injector.add(Fault("GET", TASK, times=-1, status=503))
    started = time.monotonic()
    with pytest.raises(InternalServerError, match="503"):
        await handle.result(timeout=20)
    # The HTTP layer tries 4 times per poll; the poller polls again until give_up_after (1 s).
    assert injector.count("GET", TASK) > 4
    assert time.monotonic() - started >= 1.0
    injector.clear()
    await handle.cancel()


async def test_connection_reset_in_the_middle_of_polling(
    client: AsyncSmoothClient, injector: FaultInjector, transport: ResettingTransport
) -> None:
    async with client.session() as session:
        await session.evaluate_js("1")
        transport.reset_next("GET", TASK, count=2)
        assert (await session.evaluate_js("'after the reset'")).output == "after the reset"
        assert transport.resets == 2


async def test_reset_after_an_action_was_sent_is_resent_and_runs_once(
    client: AsyncSmoothClient, transport: ResettingTransport
) -> None:
    async with client.session() as session:
        transport.reset_next("POST", EVENT, count=1)
        # The event id is the client's, so the resend is recognised: the script runs once.
        assert (await session.evaluate_js("window.n = (window.n || 0) + 1")).output == 1
        assert transport.resets == 1
        assert (await session.evaluate_js("window.n")).output == 1


async def test_a_retry_after_past_the_limit_is_not_waited_out(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    injector.add(
        Fault(
            "GET",
            r"/api/v1/task",
            times=5,
            status=429,
            headers={"Retry-After": "3600", "X-Request-Id": "req-7f3a"},
        )
    )
    started = time.monotonic()
    with pytest.raises(RateLimitError) as raised:
        await client.list_tasks()
    assert injector.count("GET", r"/api/v1/task") == 1  # raised at once, as documented
    assert time.monotonic() - started < 1
    # The error keeps what the answer said: when to come back, and the id support asks for.
    error = raised.value
    assert error.retry_after == 3600
    assert error.request_id == "req-7f3a"
    assert error.headers["retry-after"] == "3600"
    assert "retry in 3600 s" in str(error)
    assert "req-7f3a" in str(error)


@pytest.mark.parametrize(
    "answer", [None, "oops", {"status": "done"}, []], ids=["null", "text", "no-id", "list"]
)
async def test_an_answer_that_does_not_fit_is_a_smooth_error(
    client: AsyncSmoothClient, injector: FaultInjector, answer: object
) -> None:
    injector.add(Fault("POST", r"/api/v1/task", rewrite=lambda body: {"r": answer}))
    with pytest.raises(APIError, match="unexpected answer to POST /task"):
        await client.run("read", url="http://127.0.0.1:9/")


async def test_refused_connection_before_sending_is_retried_even_for_post(
    client: AsyncSmoothClient, transport: ResettingTransport, injector: FaultInjector
) -> None:
    before = len(await client.list_tasks())
    transport.reset_next("POST", r"/api/v1/task", count=2, before_sending=True)
    handle = await client.run(script({"action": "return", "output": 1}))
    assert (await handle.result(timeout=20)).output == 1
    assert len(await client.list_tasks()) == before + 1


async def test_slow_answers_time_out_and_are_retried(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    async with client.session() as session:
        assert client._http is not None
        client._http.timeout = 0.5
        injector.add(Fault("GET", TASK, times=1, delay=1.5))
        assert (await session.evaluate_js("'patient'")).output == "patient"


@pytest.mark.parametrize("rewrite", [duplicate_events, reverse_events, same_timestamp])
async def test_odd_event_streams_lose_nothing_and_repeat_nothing(
    client: AsyncSmoothClient, injector: FaultInjector, site: SiteServer, rewrite: Any
) -> None:
    calls: list[int] = []

    def count(n: int) -> int:
        """Record a call."""
        calls.append(n)
        return n * 10

    steps = script(
        {"action": "goto", "url": site.url("demo/index.html")},
        {"action": "tool", "name": "count", "input": {"n": 1}},
        {"action": "tool", "name": "count", "input": {"n": 2}},
        {"action": "tool", "name": "count", "input": {"n": 3}},
        {"action": "return", "from": "all"},
    )
    injector.add(Fault("GET", TASK, times=-1, rewrite=rewrite))
    handle = await client.run(steps, custom_tools=[count])
    result = await handle.result(timeout=30)
    assert calls == [1, 2, 3]
    assert result.output[1:] == [10, 20, 30]

    async with client.session() as session:
        values = [(await session.evaluate_js(f"{i} + 0")).output for i in range(5)]
    assert values == [0, 1, 2, 3, 4]


async def test_a_poll_failing_past_its_retries_is_tried_again(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    async with client.session() as session:
        await session.evaluate_js("1")
        # Five failures in a row: more than the HTTP retries (3), so the poller itself retries.
        injector.add(Fault("GET", TASK, times=5, status=503))
        assert (await session.evaluate_js("'survived'")).output == "survived"
        assert not session.closed


async def test_a_session_whose_polling_failed_is_deleted_when_forgotten(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    registry = SessionRegistry(client, ttl=900)
    session = await registry.open()
    injector.add(Fault("GET", TASK, times=-1, status=500))
    with pytest.raises(SmoothError):
        await session.evaluate_js("1")  # every poll fails, past give_up_after
    injector.clear()
    assert session.closed  # this process lost sight of it...
    assert registry.open_sessions() == []
    assert await registry.reap() == [session.id]
    assert injector.count("DELETE", TASK) == 1  # ...so it is deleted remotely, not left running
    assert (await client.get_task(session.id)).status == "cancelled"


def counting_tool(calls: list[int]) -> Any:
    def count(n: int) -> int:
        """Record a call."""
        calls.append(n)
        return n * 10

    return count


@pytest.mark.parametrize("failures", [6, 2], ids=["past-the-http-retries", "within-them"])
async def test_a_tool_answer_is_resent_until_delivered(
    client: AsyncSmoothClient, injector: FaultInjector, site: SiteServer, failures: int
) -> None:
    calls: list[int] = []
    steps = script(
        {"action": "tool", "name": "count", "input": {"n": 4}},
        {"action": "return", "from": "last"},
    )
    # More 500s than the HTTP retries (3): the answer must still arrive, the tool run once.
    injector.add(Fault("POST", EVENT, times=failures, status=500))
    handle = await client.run(steps, custom_tools=[counting_tool(calls)])
    result = await handle.result(timeout=30)
    assert result.output == 40
    assert calls == [4]
    assert injector.count("POST", EVENT) == failures + 1


async def test_a_tool_answer_that_cannot_be_sent_fails_the_waiter_loudly(
    client: AsyncSmoothClient, injector: FaultInjector
) -> None:
    calls: list[int] = []
    steps = script(
        {"action": "tool", "name": "count", "input": {"n": 5}}, {"action": "return", "from": "last"}
    )
    injector.add(Fault("POST", EVENT, times=-1, status=500))
    handle = await client.run(steps, custom_tools=[counting_tool(calls)])
    started = time.monotonic()
    with pytest.raises(SmoothError, match="could not be sent"):
        await handle.result(timeout=30)
    assert time.monotonic() - started < 10  # give_up_after is 1 s here: no hang until the timeout
    assert calls == [5]
    await client.cancel_task(handle.id)


@pytest.mark.parametrize("kind", ["task", "session"])
async def test_a_start_cancelled_before_its_answer_cancels_what_it_created(
    client: AsyncSmoothClient, injector: FaultInjector, kind: str
) -> None:
    # The task exists on the server once the POST arrives; the caller, cancelled before the answer
    # comes, never holds its id: the client ends it, else it would run on with nobody to stop it.
    injector.add(Fault("POST", r"/api/v1/task", hold_answer=1.0))
    before = {t.id for t in await client.list_tasks()}

    async def start() -> object:
        if kind == "task":
            return await client.run(script({"action": "sleep", "seconds": 60}))
        return await client.session()

    starting = asyncio.create_task(start())

    async def created() -> set[str]:
        return {t.id for t in await client.list_tasks()} - before

    (task_id,) = await eventually(created, 30, "the task created")
    assert not starting.done()  # its answer is still held
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert (await client.get_task(task_id)).status == "cancelled"


async def test_a_session_close_cut_short_before_its_request_left_still_ends_the_session(
    client: AsyncSmoothClient, transport: ResettingTransport
) -> None:
    # The caller gives up on the close while its request is still on its way out (a connection
    # being made): the handle says closed, so the session must end all the same, or it would
    # hold its browser until the service's idle timeout.
    session = await client.session()
    held = transport.hold_next("DELETE", TASK)
    closing = asyncio.create_task(session.close(force=True))
    await asyncio.wait_for(held.wait(), 30)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert session.closed

    async def ended() -> bool:
        return (await client.get_task(session.id)).status == "cancelled"

    await eventually(ended, 30, "the session ended")
