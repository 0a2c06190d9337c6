"""Polling paced for a server without long polling: the schedule and the budget from tables, then
the client against the local server in timer mode, with 429 storms at the HTTP boundary."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from smooth_agents import AsyncSmoothClient, PollSettings
from smooth_agents.pacing import (
    Pacing,
    RequestBudget,
    Wait,
    decreased_rate,
    increased_rate,
    landing,
    next_poll_at,
    observed_duration,
    predicted_completions,
    refilled,
    wait_for_token,
)
from tests.faults import TASK, Fault, FaultInjector
from tests.helpers import API_KEY, AppServer

S = PollSettings()  # first_delay 2 ms, growth 1, tolerance 10 %, late growth 1/2, max 10 s


@pytest.mark.parametrize(
    ("elapsed", "predicted", "rtt", "expected"),
    [
        # A kind never seen: after first_delay, then growth x elapsed (doubling)...
        (0.0, (), 0.0, 0.002),
        (0.1, (), 0.0, 0.2),
        (3.0, (), 0.0, 6.0),
        # ...never more than max_delay from now, never sooner than half a round trip.
        (30.0, (), 0.0, 40.0),
        (0.0, (), 0.08, 0.04),
        # Seen before: at the predicted completion (a little after it)...
        (0.0, (0.5,), 0.04, landing(0.5)),
        (0.2, (0.5,), 0.04, landing(0.5)),
        # ...at each recent duration in turn (a bimodal action: one extra poll)...
        (0.0, (0.1, 2.0), 0.0, landing(0.1)),
        (landing(0.1) + 0.01, (0.1, 2.0), 0.0, landing(2.0)),
        # ...then every tenth of the last prediction...
        (landing(2.0) + 0.01, (0.1, 2.0), 0.0, landing(2.0) + 0.01 + 0.1 * landing(2.0)),
        # ...backing off as the overrun grows (half of it), still within max_delay.
        (landing(2.0) + 4.0, (0.1, 2.0), 0.0, landing(2.0) + 4.0 + 2.0),
        (100.0, (1.0,), 0.0, 110.0),
        # A prediction far away is still not waited for more than max_delay from now.
        (0.0, (60.0,), 0.0, 10.0),
    ],
)
def test_when_to_poll_next(elapsed: float, predicted: tuple[float, ...], rtt: float, expected: float) -> None:
    assert next_poll_at(elapsed, predicted, rtt, S) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ((), ()),
        ((0.5,), (0.5,)),
        ((2.0, 0.1, 2.0), (0.1, 2.0)),
        # Within a tenth of each other: one poll, at the larger.
        ((1.0, 1.05, 1.08), (1.08,)),
        ((0.3, 1.0, 3.0), (0.3, 1.0, 3.0)),
    ],
)
def test_predicted_completions(durations: tuple[float, ...], expected: tuple[float, ...]) -> None:
    assert predicted_completions(durations) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("found", "missed", "expected"),
    [
        (1.0, 0.8, 0.9),  # between the poll that missed and the one that found it
        (1.0, None, 0.9),  # found at once: a little under, so a prediction too long comes down
        (1.0, 1.2, 0.9),  # a miss recorded after the find cannot bound it
    ],
)
def test_a_duration_seen_only_through_polls(found: float, missed: float | None, expected: float) -> None:
    assert observed_duration(found, missed) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("tokens", "rate", "burst", "seconds", "after"),
    [(0.0, 10.0, 2.0, 0.05, 0.5), (1.5, 10.0, 2.0, 1.0, 2.0), (0.0, 0.5, 2.0, -1.0, 0.0)],
)
def test_the_bucket_refills_at_its_rate_up_to_its_burst(
    tokens: float, rate: float, burst: float, seconds: float, after: float
) -> None:
    assert refilled(tokens, rate, burst, seconds) == pytest.approx(after)


@pytest.mark.parametrize(
    ("tokens", "rate", "wait"), [(1.0, 10.0, 0.0), (0.0, 10.0, 0.1), (0.5, 0.5, 1.0), (3.0, 1.0, 0.0)]
)
def test_waiting_for_a_token(tokens: float, rate: float, wait: float) -> None:
    assert wait_for_token(tokens, rate) == pytest.approx(wait)


@pytest.mark.parametrize(
    ("rate", "after_429", "after_success"),
    [(10.0, 5.0, 10.0), (5.0, 2.5, 5.5), (0.6, 0.5, 1.1), (0.5, 0.5, 1.0)],
)
def test_429_halves_the_rate_and_success_gives_a_twentieth_back(
    rate: float, after_429: float, after_success: float
) -> None:
    assert decreased_rate(rate, S) == pytest.approx(after_429)
    assert increased_rate(rate, S) == pytest.approx(after_success)


def test_prediction_follows_what_was_seen_of_each_kind() -> None:
    pacing = Pacing(S)
    for seconds in (0.4, 0.4, 0.4, 2.0):
        pacing.record("goto", seconds)
    pacing.record("evaluate_js", 0.01)
    assert pacing.predicted("goto") == pytest.approx((0.4, 2.0))  # the last three
    assert pacing.predicted("extract") == ()
    wait = Wait("goto", since=100.0)
    wait.missed_by(100.5)
    pacing.learn(wait, reported=None, found_by_poll_sent_at=101.5)  # between 0.5 and 1.5
    assert pacing.predicted("goto") == pytest.approx((0.4, 1.0, 2.0))
    pacing.learn(Wait("goto", 0.0), reported=0.7, found_by_poll_sent_at=3.0)  # the server's figure wins
    assert pacing.predicted("goto") == pytest.approx((0.7, 1.0, 2.0))


async def test_the_budget_never_lets_more_through_than_its_rate_allows() -> None:
    budget = RequestBudget(PollSettings(requests_per_second=40.0, burst=2.0))
    started = time.monotonic()
    await asyncio.gather(*(budget.take() for _ in range(12)))
    # Two at once, then one per 25 ms: a lower bound a slow machine only makes longer.
    assert time.monotonic() - started >= 10 / 40 * 0.98


async def test_a_429_pauses_the_budget_for_retry_after_and_slows_it() -> None:
    budget = RequestBudget(PollSettings(requests_per_second=10.0, burst=5.0))
    budget.rate_limited(0.3)
    started = time.monotonic()
    await budget.take()
    assert time.monotonic() - started >= 0.3 * 0.98
    assert budget.rate == 5.0
    for _ in range(30):
        budget.succeeded()
    assert budget.rate == 10.0


# -- the client in timer mode against the local server ----------------------------------------

TIMER = PollSettings(long_poll=False, requests_per_second=10.0, burst=2.0)
WAIT_JS = "args => new Promise(done => setTimeout(() => done(args.n), args.ms))"


async def test_ten_sessions_waiting_at_once_stay_within_the_clients_budget(
    faulty: tuple[FaultInjector, AppServer], injector: FaultInjector
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=faulty[1].base_url, poll=TIMER) as client:
        sessions = [await client.open_session({}) for _ in range(10)]
        try:
            injector.arrivals.clear()
            started = time.monotonic()
            answers = await asyncio.gather(
                *(s.evaluate_js(WAIT_JS, {"ms": 1500, "n": n}) for n, s in enumerate(sessions))
            )
            elapsed = time.monotonic() - started
        finally:
            for session in sessions:
                await session.close(force=True)
    assert [a.output for a in answers] == list(range(10))  # nothing lost, each its own
    polls = [t for t, method, path in injector.arrivals if method == "GET" and t <= started + elapsed]
    # The bucket's bound (burst + rate x time): ten sessions polling on their own would send
    # several times this many.
    assert len(polls) <= TIMER.burst + TIMER.requests_per_second * elapsed + 1


async def test_a_429_storm_on_polls_loses_nothing_and_slows_the_client(
    faulty: tuple[FaultInjector, AppServer], injector: FaultInjector
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=faulty[1].base_url, poll=TIMER) as client:
        async with client.session() as session:
            await session.evaluate_js("window.runs = 0")
            injector.add(Fault("GET", TASK, times=6, status=429, headers={"Retry-After": "0.2"}))
            injector.arrivals.clear()
            first = await session.evaluate_js("++window.runs")
            second = await session.evaluate_js(WAIT_JS, {"ms": 200, "n": "after"})
        budget = client._pacing.budget
    assert (first.output, second.output) == (1, "after")  # run once each, answers kept
    assert budget.rate < TIMER.requests_per_second  # slowed down, growing back
    refused = [i for i, (_, m, _p) in enumerate(injector.arrivals) if m == "GET"][:6]
    times = [injector.arrivals[i][0] for i in refused]
    # After each 429, nothing for its Retry-After (0.2 s; a little slack for clock granularity).
    assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(times))


async def test_the_client_learns_each_kind_from_the_servers_durations(
    faulty: tuple[FaultInjector, AppServer],
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=faulty[1].base_url, poll=TIMER) as client:
        async with client.session() as session:
            for _ in range(2):
                await session.evaluate_js(WAIT_JS, {"ms": 300, "n": 1})
        predicted = client._pacing.predicted("evaluate_js")
    # The local server reports how long each action took; the client predicts from those.
    assert predicted
    assert all(0.3 <= p < 5 for p in predicted)
