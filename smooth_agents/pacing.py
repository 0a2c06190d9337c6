"""When to poll, for a server that offers no long polling (the Smooth cloud): a schedule predicted
from what the client has seen, and one request budget per client.

- **Prediction.** For each kind of action (goto, extract, evaluate_js, run_task, close, a whole
  task) the client keeps the last few durations it saw: the server's own ``duration`` where the
  answer carries one, else the time of the poll that found the answer. The next action of that
  kind polls at each recent duration (a bimodal action, a cached page and an uncached one, costs
  one extra poll, not a ladder of them), then every ``tolerance`` of the last one, backing off as
  the overrun grows. A kind never seen polls early and doubles its wait each time.
- **Round trip.** A poll sent ``elapsed`` seconds after the action reaches the server half a round
  trip later, as the action did: polling at ``elapsed == duration`` finds it done. No poll goes
  out sooner than half a round trip after the action.
- **Budget.** Every timer poll of a client takes a token from one bucket (``requests_per_second``,
  ``burst``), first come first served, so ten sessions waiting at once share it fairly. A 429
  halves the rate and pauses the bucket for ``Retry-After``; each successful poll gives a
  twentieth of the ceiling back (multiplicative decrease, additive increase).

Everything that decides is a pure function of (elapsed, predictions, round trip, settings) or of
the bucket's numbers, tested from tables (tests/core/test_pacing.py); the classes hold state.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PollSettings:
    """How the client polls a task or session it waits on.

    Timer polling (a server without long polling): a kind of action never seen polls after
    ``first_delay`` and then waits ``growth`` x the time since the action each time; a kind seen
    before polls at its recent durations, then every ``tolerance`` x the last of them (growing by
    ``late_growth`` x the overrun); no wait exceeds ``max_delay`` (``tool_max_delay`` while the
    task has custom tools, whose calls wait on us). ``requests_per_second`` and ``burst`` bound
    the timer polls of the whole client. Long polls (``long_poll``, when the server announces
    them) wait on the server instead, ``long_poll_ms`` at most.
    """

    first_delay: float = 0.002
    growth: float = 1.0
    tolerance: float = 0.1
    late_growth: float = 0.5
    max_delay: float = 10.0
    tool_max_delay: float = 1.0
    # Durations kept per kind of action: each is a predicted completion (a poll each).
    history: int = 3
    requests_per_second: float = 10.0
    # Polls that may go out at once before the rate applies (ten sessions starting together).
    burst: float = 2.0
    min_requests_per_second: float = 0.5
    long_poll_ms: int = 10_000
    # Use long polling when the server announces it; off: always poll on the timer.
    long_poll: bool = True
    # A poll that fails after the HTTP retries (a 5xx, a reset) is tried again, backing off up
    # to ``max_failure_backoff``; only after ``give_up_after`` seconds of nothing but failures do
    # waiters get the error. 401/403/404 are final at once.
    give_up_after: float = 60.0
    max_failure_backoff: float = 5.0

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0 or self.burst < 1 or self.min_requests_per_second <= 0:
            raise ValueError("requests_per_second and min_requests_per_second must be positive, burst >= 1")
        if self.first_delay <= 0 or self.max_delay <= 0 or self.history < 1:
            raise ValueError("first_delay and max_delay must be positive, history at least 1")


# -- the schedule (pure) ------------------------------------------------------------------------


def predicted_completions(durations: Sequence[float], merge: float = 0.1) -> tuple[float, ...]:
    """The recent durations of a kind, sorted, those within ``merge`` of each other made one (the
    larger: a poll there finds both)."""
    merged: list[float] = []
    for duration in sorted(d for d in durations if d >= 0):
        if merged and duration <= merged[-1] * (1 + merge):
            merged[-1] = duration
        else:
            merged.append(duration)
    return tuple(merged)


def landing(duration: float) -> float:
    """When to poll for a predicted completion: a little after it, so a poll is not spent a hair
    before the answer exists (the server writes it after the work it timed)."""
    return duration + max(0.002, 0.02 * duration)


def next_poll_at(elapsed: float, predicted: Sequence[float], rtt: float, settings: PollSettings) -> float:
    """When to poll next, in seconds since the action was sent, ``elapsed`` seconds after it.

    At the next predicted completion not yet passed; past them all, every ``tolerance`` of the
    last one, or ``late_growth`` of the overrun when that is longer; with no prediction, after
    ``first_delay`` and then ``growth`` x the time elapsed. Never sooner than half a round trip
    after the action, never more than ``max_delay`` from now.
    """
    earliest = max(elapsed, rtt / 2)
    for duration in predicted:
        at = landing(duration)
        if at > elapsed:
            return min(max(earliest, at), elapsed + settings.max_delay)
    if predicted:
        last = landing(predicted[-1])
        step = max(settings.first_delay, settings.tolerance * last, settings.late_growth * (elapsed - last))
    else:
        step = max(settings.first_delay, settings.growth * elapsed)
    return max(earliest, elapsed + min(settings.max_delay, step))


def observed_duration(found: float, missed: float | None, shrink: float = 0.9) -> float:
    """A duration the server did not report, seen through polls: between the last poll that did
    not find it done (``missed``, seconds after the start) and the one that did (``found``). With
    no miss, somewhat under ``found``, so that a prediction grown too long comes down again."""
    if missed is None or missed >= found:
        return shrink * found
    return (missed + found) / 2


# -- the budget (pure) --------------------------------------------------------------------------


def refilled(tokens: float, rate: float, burst: float, seconds: float) -> float:
    return min(burst, tokens + rate * max(0.0, seconds))


def wait_for_token(tokens: float, rate: float) -> float:
    """Seconds until one whole token is there."""
    return 0.0 if tokens >= 1 else (1 - tokens) / rate


def decreased_rate(rate: float, settings: PollSettings) -> float:
    """After a 429: half the rate, never below the floor."""
    return max(settings.min_requests_per_second, rate / 2)


def increased_rate(rate: float, settings: PollSettings) -> float:
    """After a successful poll: a twentieth of the ceiling back, never above it."""
    return min(settings.requests_per_second, rate + settings.requests_per_second / 20)


# -- state ----------------------------------------------------------------------------------------


class RequestBudget:
    """The token bucket every timer poll of one client takes from (first come, first served)."""

    def __init__(self, settings: PollSettings) -> None:
        self.settings = settings
        self.rate = settings.requests_per_second
        self.tokens = settings.burst
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # FIFO: waiting polls are served in order, each in turn
        self.waited = 0.0  # seconds spent waiting for tokens (a figure for benchmarks and tests)

    def _refill(self, now: float) -> None:
        self.tokens = refilled(self.tokens, self.rate, self.settings.burst, now - self._updated)
        self._updated = now

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._refill(now)
                wait = max(self._paused_until - now, wait_for_token(self.tokens, self.rate))
                if wait <= 0:
                    self.tokens -= 1
                    return
                self.waited += wait
                await asyncio.sleep(wait)

    def rate_limited(self, retry_after: float | None) -> None:
        """A 429: slow down, and send nothing before ``retry_after`` seconds."""
        now = time.monotonic()
        self._refill(now)
        self.rate = decreased_rate(self.rate, self.settings)
        self.tokens = 0.0
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)

    def succeeded(self) -> None:
        self.rate = increased_rate(self.rate, self.settings)


@dataclass
class Wait:
    """Something a poller waits for: its kind (None: nothing to predict or learn), when it began
    (monotonic seconds), and when after that the last poll that found it not done was sent."""

    kind: str | None
    since: float
    missed: float | None = None

    def missed_by(self, poll_sent_at: float) -> None:
        if poll_sent_at >= self.since:
            self.missed = poll_sent_at - self.since


class Pacing:
    """What one client knows about the server's pace: durations by kind, the round trip, the
    request budget. Shared by every poller of the client."""

    def __init__(self, settings: PollSettings) -> None:
        self.settings = settings
        self.budget = RequestBudget(settings)
        self.rtt = 0.0
        # Set while the server announces long polling (then polls wait on the server instead).
        self.long_poll_ms: int | None = None
        self._durations: dict[str, deque[float]] = {}

    def record(self, kind: str, seconds: float) -> None:
        recent = self._durations.setdefault(kind, deque(maxlen=self.settings.history))
        recent.append(max(0.0, seconds))

    def learn(self, wait: Wait, *, reported: float | None, found_by_poll_sent_at: float | None) -> None:
        """Record how long ``wait`` took: the server's figure, else what the polls saw."""
        if wait.kind is None:
            return
        if reported is not None and reported > 0:
            self.record(wait.kind, reported)
        elif found_by_poll_sent_at is not None:
            self.record(wait.kind, observed_duration(found_by_poll_sent_at - wait.since, wait.missed))

    def predicted(self, kind: str) -> tuple[float, ...]:
        return predicted_completions(self._durations.get(kind, ()))

    def observe_round_trip(self, seconds: float) -> None:
        # A moving average: one slow answer moves it a little, a new network a lot within a few.
        self.rtt = seconds if self.rtt == 0 else 0.7 * self.rtt + 0.3 * seconds

    def delay(self, wait: Wait, now: float, *, cap: float) -> float:
        """Seconds from ``now`` to the next poll ``wait`` needs."""
        elapsed = now - wait.since
        predicted = self.predicted(wait.kind) if wait.kind else ()
        at = next_poll_at(elapsed, predicted, self.rtt, self.settings)
        return max(0.0, min(cap, at - elapsed))
