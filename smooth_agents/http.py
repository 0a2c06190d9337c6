"""The one network seam: every request of the client goes through ``HttpCore.request``.

It owns the auth header, timeouts, retries (``retry.py``), the ``{"r": ...}`` envelope and the
mapping of error answers to the exception tree (``errors.py``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2
from pydantic import SecretStr

from ._version import __version__
from .errors import APIConnectionError, APIError, APITimeoutError, error_for_status
from .retry import RetryPolicy, parse_retry_after, retry_delay, should_retry

log = logging.getLogger("smooth_agents.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
# How long closing waits for the requests that must go out whatever happens to their callers.
UNSTOPPABLE_WAIT_SECONDS = 15.0


def api_path(*segments: str) -> str:
    """An API path from its segments, each escaped whole: an id holding ``/``, ``?`` or ``#``
    names no other resource (``task_1#`` must not reach ``/task/task_1``)."""
    return "".join("/" + quote(segment, safe="") for segment in segments)


@dataclass
class Reply:
    """An unwrapped answer: the ``r`` value, the status and the headers."""

    value: Any
    status_code: int
    headers: Mapping[str, str]


class HttpCore:
    def __init__(
        self,
        api_url: str,
        api_key: SecretStr,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.requests_sent = 0
        # Told of every 429 (with its Retry-After, if any): the client's poll budget slows down.
        self.rate_limit_listeners: list[Callable[[float | None], None]] = []
        headers = {"user-agent": f"smooth-agents/{__version__}", **(extra_headers or {})}
        self._client = httpx2.AsyncClient(
            base_url=self.api_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=httpx2.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self._unstoppable: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"HttpCore(api_url={self.api_url!r})"

    def unstoppable(self, work: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        """Run ``work`` (requests that end what nobody holds any more: a task whose creator was
        cancelled, a session whose close was cut short) to its end whatever happens to its caller;
        awaiting the result waits for it unless the caller is cancelled again. Closing waits for
        it too, so its requests are not cut by the connections closing."""
        task = asyncio.ensure_future(work)
        self._unstoppable.add(task)
        task.add_done_callback(self._unstoppable.discard)
        return asyncio.shield(task)

    async def aclose(self) -> None:
        if self._unstoppable:
            await asyncio.wait(set(self._unstoppable), timeout=UNSTOPPABLE_WAIT_SECONDS)
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send one API request, retrying by the policy; return the unwrapped answer."""
        method = method.upper()
        safe_to_repeat = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        attempt = 0
        maybe_applied = False  # an earlier attempt may have reached the service
        while True:
            try:
                self.requests_sent += 1
                response = await self._client.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    files=files,
                    data=data,
                    headers={"apikey": self._key.get_secret_value()},
                    timeout=timeout if timeout is not None else self.timeout,
                )
            except httpx2.TransportError as exc:
                not_sent = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout)
                if should_retry(
                    attempt=attempt, policy=self.retry, idempotent=safe_to_repeat, request_sent=not not_sent
                ):
                    await self._sleep(attempt, None, f"{method} {path}: {type(exc).__name__}")
                    attempt += 1
                    maybe_applied = maybe_applied or not not_sent
                    continue
                raise _transport_error(exc, method, path, self.api_url) from None
            if response.status_code < 400:
                return Reply(_unwrap(response), response.status_code, response.headers)
            retry_after = parse_retry_after(response.headers)
            if response.status_code == 429:
                for listener in self.rate_limit_listeners:
                    listener(retry_after)
            if should_retry(
                attempt=attempt,
                policy=self.retry,
                idempotent=safe_to_repeat,
                status_code=response.status_code,
                retry_after=retry_after,
            ):
                await self._sleep(attempt, retry_after, f"{method} {path}: {response.status_code}")
                attempt += 1
                maybe_applied = maybe_applied or response.status_code >= 500
                continue
            error = error_for_status(response.status_code, _detail(response), method, path, response.headers)
            error.resent = maybe_applied
            raise error

    async def _sleep(self, attempt: int, retry_after: float | None, why: str) -> None:
        delay = retry_delay(attempt, self.retry, retry_after, random.random())  # noqa: S311 (jitter)
        log.info("retrying after %.2f s (%s)", delay, why)
        await asyncio.sleep(delay)


def _unwrap(response: httpx2.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        raise APIError(
            f"the answer is not JSON ({response.text[:200]!r})", status_code=response.status_code
        ) from None
    if isinstance(body, dict) and "r" in body:
        return body["r"]
    return body


def _detail(response: httpx2.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body


def _transport_error(exc: httpx2.TransportError, method: str, path: str, api_url: str) -> APIConnectionError:
    where = f"{method} {api_url}{path}"
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(
            f"{where} timed out ({type(exc).__name__}); the service may be slow, retry later."
        )
    return APIConnectionError(
        f"{where} failed: {type(exc).__name__}: {exc}. Check the network and SMOOTH_BASE_URL."
    )
