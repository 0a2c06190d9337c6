"""Retry policy as pure functions: what to retry, how long to wait. Tested from a table.

A request is retried on 429 (honouring Retry-After), on 5xx, and on connection errors, but a
non-idempotent POST only where it cannot have been applied twice: a 429 (refused before any
work) or a connection that failed before the request was sent.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    # Longest Retry-After we honour; past it the caller is better off hearing the error now.
    max_retry_after: float = 60.0


def should_retry(
    *,
    attempt: int,
    policy: RetryPolicy,
    idempotent: bool,
    status_code: int | None = None,
    connect_failed: bool = False,
    request_sent: bool = True,
    retry_after: float | None = None,
) -> bool:
    """Whether attempt number ``attempt`` (0 for the first) may be followed by another.

    Give ``status_code`` for an answer, or ``connect_failed`` / ``request_sent`` for a transport
    failure (``request_sent`` False: the request never left, so even a POST is safe to resend).
    A ``retry_after`` past ``policy.max_retry_after`` is not waited out: the error comes now.
    """
    if attempt >= policy.max_retries:
        return False
    if retry_after is not None and retry_after > policy.max_retry_after:
        return False
    if status_code is not None:
        if status_code == 429:
            return True
        return status_code in RETRYABLE_STATUSES and idempotent
    if connect_failed or not request_sent:
        return True
    return idempotent


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` (or ``retry-after-ms``) header, if any."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    moment = email.utils.mktime_tz(parsed)
    return max(0.0, moment - (time.time() if now is None else now))


def retry_delay(attempt: int, policy: RetryPolicy, retry_after: float | None, jitter: float) -> float:
    """Seconds before retry ``attempt + 1``; ``jitter`` in [0, 1) spreads concurrent clients.

    A server's Retry-After wins (one past ``max_retry_after`` is never retried: see
    ``should_retry``); otherwise capped exponential backoff with up to 25% taken off at random, so
    the delay never exceeds the cap.
    """
    if retry_after is not None and retry_after <= policy.max_retry_after:
        return retry_after
    delay = float(min(policy.base_delay * (2**attempt), policy.max_delay))
    return delay * (1 - 0.25 * jitter)
