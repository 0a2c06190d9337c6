"""The retry policy's pure functions, from a table."""

from __future__ import annotations

import email.utils

import pytest

from smooth_agents.retry import RetryPolicy, parse_retry_after, retry_delay, should_retry

POLICY = RetryPolicy(max_retries=3, base_delay=0.25, max_delay=8.0, max_retry_after=60.0)

SHOULD_RETRY = [
    # attempt, idempotent, status, connect_failed, request_sent, expected
    (0, True, 429, False, True, True),
    (0, False, 429, False, True, True),  # refused before any work: safe even for a POST
    (0, True, 500, False, True, True),
    (0, True, 502, False, True, True),
    (0, True, 503, False, True, True),
    (0, True, 504, False, True, True),
    (0, False, 500, False, True, False),  # a POST may have been applied
    (0, False, 503, False, True, False),
    (0, True, 400, False, True, False),
    (0, True, 404, False, True, False),
    (0, True, 422, False, True, False),
    (0, True, 401, False, True, False),
    (3, True, 503, False, True, False),  # retries exhausted
    (3, False, 429, False, True, False),
    (0, False, None, True, False, True),  # connection refused: never sent
    (0, False, None, False, False, True),
    (0, False, None, False, True, False),  # reset after sending a POST
    (0, True, None, False, True, True),  # reset after sending a GET
    (2, True, None, False, True, True),
    (3, True, None, True, False, False),
]
# A Retry-After longer than the policy waits for: the error comes at once.
LONG_WAITS = [(3600.0, False), (60.0, True), (0.5, True), (None, True)]


@pytest.mark.parametrize(("retry_after", "expected"), LONG_WAITS)
def test_a_long_retry_after_is_not_waited_out(retry_after: float | None, expected: bool) -> None:
    decided = should_retry(
        attempt=0, policy=POLICY, idempotent=True, status_code=429, retry_after=retry_after
    )
    assert decided is expected


@pytest.mark.parametrize(
    ("attempt", "idempotent", "status", "connect_failed", "sent", "expected"), SHOULD_RETRY
)
def test_should_retry(
    attempt: int, idempotent: bool, status: int | None, connect_failed: bool, sent: bool, expected: bool
) -> None:
    decided = should_retry(
        attempt=attempt,
        policy=POLICY,
        idempotent=idempotent,
        status_code=status,
        connect_failed=connect_failed,
        request_sent=sent,
    )
    assert decided is expected


NOW = 1_800_000_000.0
RETRY_AFTER = [
    ({}, None),
    ({"Retry-After": "2"}, 2.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"Retry-After": "-3"}, 0.0),
    ({"Retry-After": "soon"}, None),
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
    ({"Retry-After": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
    ({"Retry-After": email.utils.formatdate(NOW - 7, usegmt=True)}, 0.0),
]


@pytest.mark.parametrize(("headers", "expected"), RETRY_AFTER)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


DELAYS = [
    # attempt, retry_after, jitter, expected
    (0, None, 0.0, 0.25),
    (1, None, 0.0, 0.5),
    (2, None, 0.0, 1.0),
    (5, None, 0.0, 8.0),  # capped
    (9, None, 0.0, 8.0),
    (0, None, 0.999, 0.25 * (1 - 0.25 * 0.999)),  # jitter only shortens
    (5, None, 0.5, 8.0 * 0.875),
    (0, 3.0, 0.7, 3.0),  # the server's Retry-After wins
    (0, 120.0, 0.0, 0.25),  # past max_retry_after (should_retry says no first): our own backoff
]


@pytest.mark.parametrize(("attempt", "retry_after", "jitter", "expected"), DELAYS)
def test_retry_delay(attempt: int, retry_after: float | None, jitter: float, expected: float) -> None:
    assert retry_delay(attempt, POLICY, retry_after, jitter) == pytest.approx(expected)
