"""Fault injection at the HTTP boundary: an ASGI middleware and a client transport wrapper.

``FaultInjector`` wraps the local server's app: per matching request it can answer an error
status (with headers such as Retry-After), delay the answer, or rewrite the JSON answer (events
duplicated, reordered, sharing one timestamp). ``ResettingTransport`` wraps the client's real
transport and drops the connection after a matching request reached the server, as a reset in
the middle of an exchange would.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BodyRewrite = Callable[[Any], Any]

TASK = r"/api/v1/task/task_\w+"
EVENT = r"/api/v1/task/task_\w+/event"


def script(*steps: dict[str, Any]) -> str:
    """A local-server script task: the steps run in order, no model involved."""
    return "script:" + json.dumps(list(steps))


@dataclass
class Fault:
    method: str
    path: str  # a regex matched against the whole path
    times: int = 1  # how many matching requests it applies to (-1: all)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold_answer: float = 0.0  # the request reaches the app; its answer is held this long
    rewrite: BodyRewrite | None = None
    after: int = 0  # matching requests let through untouched before the fault applies
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times != -1 and self.hits >= self.times:
            return False
        if method != self.method or re.fullmatch(self.path, path) is None:
            return False
        if self.after > 0:
            self.after -= 1
            return False
        return True


class FaultInjector:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.faults: list[Fault] = []
        self.seen: list[tuple[str, str, int]] = []  # (method, path, status answered)
        self.arrivals: list[tuple[float, str, str]] = []  # (monotonic time, method, path) of each

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()
        self.seen.clear()
        self.arrivals.clear()

    def count(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p, _ in self.seen if m == method and re.fullmatch(path_regex, p))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.arrivals.append((time.monotonic(), method, path))
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is None:
            await self._forward(scope, receive, send, method, path)
            return
        fault.hits += 1
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            self.seen.append((method, path, fault.status))
            body = json.dumps({"detail": f"injected {fault.status}"}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if fault.rewrite is not None:
            await self._rewritten(scope, receive, send, method, path, fault.rewrite)
            return
        if fault.hold_answer:
            await self._forward(scope, receive, _held(send, fault.hold_answer), method, path)
            return
        await self._forward(scope, receive, send, method, path)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, method: str, path: str) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((method, path, message["status"]))
            await send(message)

        await self.app(scope, receive, recording_send)

    async def _rewritten(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str, rewrite: BodyRewrite
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, buffering_send)
        body = json.dumps(rewrite(json.loads(b"".join(chunks)))).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        self.seen.append((method, path, start["status"]))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _held(send: Send, seconds: float) -> Send:
    async def held(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(seconds)
        await send(message)

    return held


def duplicate_events(body: Any) -> Any:
    events = body["r"].get("events") or []
    body["r"]["events"] = [e for e in events for _ in (0, 1)]
    return body


def reverse_events(body: Any) -> Any:
    body["r"]["events"] = list(reversed(body["r"].get("events") or []))
    return body


def same_timestamp(body: Any) -> Any:
    events = body["r"].get("events") or []
    if events:
        first = min(e["timestamp"] for e in events)
        for event in events:
            event["timestamp"] = first
    return body


class ResettingTransport(httpx2.AsyncBaseTransport):
    """Forwards to a real transport; for the next ``count`` matching requests, lets the request
    reach the server, then raises ``ReadError`` as if the connection had been reset (or, with
    ``before_sending``, raises ``ConnectError`` before it leaves). The first ``after`` matching
    requests pass untouched."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        # [method, path regex, remaining, before_sending, to let through first]
        self.rules: list[list[Any]] = []
        self.resets = 0
        self.holds: list[tuple[str, str, asyncio.Event]] = []

    def reset_next(
        self, method: str, path_regex: str, count: int = 1, *, before_sending: bool = False, after: int = 0
    ) -> None:
        self.rules.append([method, path_regex, count, before_sending, after])

    def hold_next(self, method: str, path_regex: str) -> asyncio.Event:
        """The next matching request never leaves, as one stuck connecting would, until its sender
        gives up on it (cancelled); the event is set once it is held."""
        held = asyncio.Event()
        self.holds.append((method, path_regex, held))
        return held

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        for hold in self.holds:
            method, path_regex, held = hold
            if request.method == method and re.fullmatch(path_regex, request.url.path):
                self.holds.remove(hold)
                held.set()
                await asyncio.Event().wait()
        for rule in self.rules:
            method, path_regex, remaining, before_sending, after = rule
            if remaining > 0 and request.method == method and re.fullmatch(path_regex, request.url.path):
                if after > 0:
                    rule[4] -= 1
                    break
                rule[2] -= 1
                self.resets += 1
                if before_sending:
                    raise httpx2.ConnectError("injected: connection refused", request=request)
                response = await self.inner.handle_async_request(request)
                await response.aread()
                raise httpx2.ReadError("injected: connection reset by peer", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RefusedAfterTaking:
    """A server that takes the hand_over action (its POST answered) and then answers it with an
    error event (code 400), as a service that queues any action and fails the unknown ones."""

    def __init__(self, injector: FaultInjector) -> None:
        self.ids: list[str] = []
        injector.add(Fault("POST", EVENT, rewrite=self.note))
        injector.add(Fault("GET", TASK, rewrite=self.refuse, times=-1))

    def note(self, body: Any) -> Any:
        self.ids.append(body["r"]["id"])
        return body

    def refuse(self, body: Any) -> Any:
        events = [e for e in body["r"].get("events") or [] if e["id"] not in self.ids]
        for event_id in self.ids:
            refusal = {"code": 400, "output": "Unknown browser_action 'hand_over'"}
            events.append({"id": event_id, "name": "browser_action", "payload": refusal})
            events[-1]["timestamp"] = int(time.time() * 1000)
        body["r"]["events"] = events
        return body
