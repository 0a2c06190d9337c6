"""Polling against a cloud-like server: our client and the official smooth-py, in one run.

The server here speaks the Smooth session protocol the way the cloud is known to: no long-poll
header, every answer delayed by a round trip (half before the work, half after, as a network
would), and session actions that complete D ms after they arrive. It reports each action's
``duration``, as the cloud does (``--no-duration`` to see the client time actions itself).

Figures, per D, after two warm-up actions of the same length: requests per action (the event
POST and the GETs, counted by the server) and added latency (the call's time minus D), median of
``--rounds``. Then a fresh client's first action of each length (a kind it has never seen), and
one client with ten sessions all waiting on a 2 s action at once: GET requests per second.

Usage: .venv/bin/python bench/cloud_polling.py [--rtt-ms 40] [--rounds 3] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smooth_agents import AsyncSmoothClient
from smooth_agents.local.server import free_port

KEY = "sk-bench-cloud"
DURATIONS_MS = [100, 500, 2000, 5000]


@dataclass
class Session:
    id: str
    status: str = "running"
    events: list[dict[str, Any]] = field(default_factory=list)  # answers not yet due included
    due: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


class CloudLike:
    """The server: sessions, actions that take the ``ms`` their ``args`` name, a round trip."""

    def __init__(self, rtt: float, report_duration: bool) -> None:
        self.rtt = rtt
        self.report_duration = report_duration
        self.sessions: dict[str, Session] = {}
        self.requests: list[tuple[float, str]] = []  # (when, method)
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/api/v1/task", self.create, methods=["POST"]),
                Route("/api/v1/task/{task_id}", self.get, methods=["GET"]),
                Route("/api/v1/task/{task_id}", self.delete, methods=["DELETE"]),
                Route("/api/v1/task/{task_id}/event", self.event, methods=["POST"]),
            ]
        )

    async def _answer(self, method: str, work: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
        self.requests.append((time.monotonic(), method))
        await asyncio.sleep(self.rtt / 2)
        response = await work()
        await asyncio.sleep(self.rtt / 2)
        return response

    def _released(self, session: Session) -> None:
        now = time.monotonic()
        for when, event in list(session.due):
            if when <= now:
                event["timestamp"] = int(time.time() * 1000)
                session.events.append(event)
                session.due.remove((when, event))
                if event["payload"].get("close"):
                    session.status = "done"

    async def create(self, request: Request) -> JSONResponse:
        async def work() -> JSONResponse:
            session = Session(f"task_{next(self._ids)}")
            self.sessions[session.id] = session
            return JSONResponse({"r": {"id": session.id, "status": "running", "live_url": None}})

        return await self._answer("POST", work)

    async def get(self, request: Request) -> JSONResponse:
        async def work() -> JSONResponse:
            session = self.sessions[request.path_params["task_id"]]
            self._released(session)
            after = int(request.query_params.get("event_t", "0") or 0)
            events = [e for e in session.events if e["timestamp"] > after]
            body = {"id": session.id, "status": session.status, "events": events, "live_url": None}
            return JSONResponse({"r": body}, status_code=202 if session.status == "running" else 200)

        return await self._answer("GET", work)

    async def delete(self, request: Request) -> JSONResponse:
        async def work() -> JSONResponse:
            self.sessions[request.path_params["task_id"]].status = "cancelled"
            return JSONResponse({"r": {}})

        return await self._answer("DELETE", work)

    async def event(self, request: Request) -> JSONResponse:
        body = await request.json()

        async def work() -> JSONResponse:
            session = self.sessions[request.path_params["task_id"]]
            event_id = body.get("id") or f"evt_{next(self._ids)}"
            payload = body.get("payload") or {}
            action = payload.get("name")
            args = (payload.get("input") or {}).get("args") or {}
            seconds = float(args.get("ms", 0)) / 1000
            output: dict[str, Any] = {"output": 1, "credits_used": 0}
            if self.report_duration:
                output["duration"] = seconds
            answer = {"id": event_id, "name": body.get("name"), "payload": {"code": 200, "output": output}}
            if action == "close":
                answer["payload"]["close"] = True
            session.due.append((time.monotonic() + seconds, answer))
            return JSONResponse({"r": {"id": event_id}})

        return await self._answer("POST", work)


class Served:
    def __init__(self, app: Starlette) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}/api/"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def js_args(ms: int) -> tuple[str, dict[str, Any]]:
    return "args => new Promise(done => setTimeout(() => done(1), args.ms))", {"ms": ms}


async def timed(server: CloudLike, session: Any, ms: int) -> tuple[float, int]:
    """One evaluate_js of ``ms`` on ``session`` (ours or smooth-py's): added seconds, requests."""
    code, args = js_args(ms)
    sent = len(server.requests)
    started = time.perf_counter()
    await session.evaluate_js(code, args)
    return time.perf_counter() - started - ms / 1000, len(server.requests) - sent


async def by_length(server: CloudLike, session: Any, rounds: int) -> dict[int, tuple[float, float]]:
    """Per length: two warm-up actions, then ``rounds`` measured (median added, mean requests)."""
    figures = {}
    for ms in DURATIONS_MS:
        samples = [await timed(server, session, ms) for _ in range(2 + rounds)][2:]
        figures[ms] = (statistics.median(a for a, _ in samples), statistics.mean(r for _, r in samples))
    return figures


async def ours(base: str, server: CloudLike, rounds: int) -> dict[int, tuple[float, float]]:
    async with AsyncSmoothClient(api_key=KEY, base_url=base) as client, client.session() as session:
        return await by_length(server, session, rounds)


async def sdk(base: str, server: CloudLike, rounds: int) -> dict[int, tuple[float, float]]:
    from smooth import SmoothAsyncClient

    session = await SmoothAsyncClient(api_key=KEY, base_url=base).session()
    try:
        return await by_length(server, session, rounds)
    finally:
        await session.close(force=True)


async def fresh(base: str, server: CloudLike) -> dict[int, tuple[float, int]]:
    """Each length as the first action of a new client (nothing known of the kind)."""
    figures = {}
    for ms in DURATIONS_MS:
        async with AsyncSmoothClient(api_key=KEY, base_url=base) as client, client.session() as session:
            figures[ms] = await timed(server, session, ms)
    return figures


async def ten_sessions(base: str, server: CloudLike, warm: bool) -> tuple[float, float]:
    """One client, ten sessions waiting on a 2 s action at once: GETs per second, mean and the
    busiest one-second window."""
    code, args = js_args(2000)
    async with AsyncSmoothClient(api_key=KEY, base_url=base) as client:
        sessions = [await client.open_session({}) for _ in range(10)]
        if warm:
            for _ in range(2):
                await asyncio.gather(*(s.evaluate_js(code, args) for s in sessions))
        start = time.monotonic()
        await asyncio.gather(*(s.evaluate_js(code, args) for s in sessions))
        end = time.monotonic()
        for s in sessions:
            await s.close(force=True)
    gets = [t for t, method in server.requests if method == "GET" and start <= t <= end]
    busiest = max((sum(1 for t in gets if w <= t < w + 1) for w in gets), default=0)
    return len(gets) / (end - start), float(busiest)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-sdk", action="store_true")
    parser.add_argument("--no-duration", action="store_true", help="the server reports no duration")
    args = parser.parse_args()
    server = CloudLike(args.rtt_ms / 1000, report_duration=not args.no_duration)
    with Served(server.app) as base:
        our_figures = asyncio.run(ours(base, server, args.rounds))
        sdk_figures = None if args.skip_sdk else asyncio.run(sdk(base, server, args.rounds))
        fresh_figures = asyncio.run(fresh(base, server))
        ten_cold = asyncio.run(ten_sessions(base, server, warm=False))
        ten_warm = asyncio.run(ten_sessions(base, server, warm=True))
    rtt = args.rtt_ms
    print(f"cloud-like server: round trip {rtt:g} ms, durations reported: {not args.no_duration}")
    print(
        f"{'D':>7} | {'ours: req/action':>16} {'added ms':>9} {'aim ms':>7} "
        f"| {'smooth-py':>10} {'added ms':>9}"
    )
    for ms in DURATIONS_MS:
        added, requests = our_figures[ms]
        aim = 0.1 * ms + rtt
        theirs = f"{sdk_figures[ms][1]:>10.1f} {sdk_figures[ms][0] * 1000:>+9.0f}" if sdk_figures else ""
        print(f"{ms:>5}ms | {requests:>16.1f} {added * 1000:>+9.0f} {aim:>7.0f} | {theirs}")
    print("first action of a kind never seen (fresh client): requests, added ms")
    for ms in DURATIONS_MS:
        added, requests = fresh_figures[ms]
        print(f"{ms:>5}ms | {requests:>3} {added * 1000:>+7.0f}")
    print(
        f"one client, 10 sessions waiting on 2 s at once: GET/s mean {ten_cold[0]:.1f} (busiest second "
        f"{ten_cold[1]:.0f}) on a fresh client, {ten_warm[0]:.1f} ({ten_warm[1]:.0f}) after two rounds"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
