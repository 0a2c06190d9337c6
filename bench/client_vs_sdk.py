"""Our client against the official smooth-py, on the same local server, in one run.

Workload per client: a session with goto, 20 x evaluate_js, extract and close; then 20 such
sessions at once. Figures per client: median action latency, HTTP requests per action (counted
by the server), CPU seconds of this process. The floor is the protocol's minimum for one
action on this server: one event POST plus one GET that returns with the result (measured with
a raw HTTP client, long-polling so no time is lost between the two).

Usage: .venv/bin/python bench/client_vs_sdk.py [--concurrent 20] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

from smooth_agents import AsyncSmoothClient
from smooth_agents.local.server import free_port

KEY = "sk-bench-compare"
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
JS_ROUNDS = 20


async def our_session(client: AsyncSmoothClient, page: str, latencies: list[float]) -> None:
    async with client.session() as session:
        for step in [("goto", page)] + [("js", None)] * JS_ROUNDS + [("extract", None)]:
            started = time.perf_counter()
            if step[0] == "goto":
                await session.goto(page)
            elif step[0] == "js":
                await session.evaluate_js("document.title")
            else:
                await session.extract(SCHEMA)
            latencies.append(time.perf_counter() - started)


async def sdk_session(client: Any, page: str, latencies: list[float]) -> None:
    session = await client.session()
    try:
        for step in [("goto", page)] + [("js", None)] * JS_ROUNDS + [("extract", None)]:
            started = time.perf_counter()
            if step[0] == "goto":
                await session.goto(page)
            elif step[0] == "js":
                await session.evaluate_js("document.title")
            else:
                await session.extract(SCHEMA)
            latencies.append(time.perf_counter() - started)
    finally:
        await session.close(force=True)


async def floor(base: str, page: str, rounds: int = 30) -> float:
    samples = []
    async with httpx2.AsyncClient(base_url=base + "/api/v1", headers={"apikey": KEY}, timeout=30) as http:
        task = (await http.post("/task", json={"task": None, "url": page})).json()["r"]
        last = 0
        for _ in range(rounds):
            started = time.perf_counter()
            payload = {"name": "evaluate_js", "input": {"js": "document.title"}}
            event_id = (
                await http.post(
                    f"/task/{task['id']}/event", json={"name": "browser_action", "payload": payload}
                )
            ).json()["r"]["id"]
            while True:
                body = (
                    await http.get(f"/task/{task['id']}", params={"event_t": last, "wait_ms": 5000})
                ).json()["r"]
                if body["events"]:
                    last = body["events"][-1]["timestamp"]
                if any(e["id"] == event_id for e in body["events"]):
                    break
            samples.append(time.perf_counter() - started)
        await http.delete(f"/task/{task['id']}")
    return statistics.median(samples)


def server_count(base: str, reset: bool = False) -> int:
    response = httpx2.post(base + "/bench/requests") if reset else httpx2.get(base + "/bench/requests")
    return int(response.text)


async def measure(
    name: str, make: Any, run_one: Any, base: str, page: str, concurrent: int
) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with make() as client:
        await run_one(client, page, [])  # warm-up: connections, browser processes
        latencies: list[float] = []
        server_count(base, reset=True)
        cpu = time.process_time()
        await run_one(client, page, latencies)
        figures["cpu_one"] = time.process_time() - cpu
        figures["requests_per_action"] = server_count(base) / (len(latencies) + 2)  # + open + close
        figures["median"] = statistics.median(latencies)
        figures["js_median"] = statistics.median(latencies[1:-1])

        many: list[float] = []
        server_count(base, reset=True)
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(run_one(client, page, many) for _ in range(concurrent)))
        figures["wall_many"] = time.perf_counter() - started
        figures["cpu_many"] = time.process_time() - cpu
        figures["median_many"] = statistics.median(many)
        figures["requests_per_action_many"] = server_count(base) / (len(many) + 2 * concurrent)
    print(f"  measured {name}", file=sys.stderr)
    return figures


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("counting_server.py")), str(port), KEY],
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx2.get(base + "/bench/requests")
            return server, base
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)


async def measure_all(
    base: str, concurrent: int, skip_sdk: bool
) -> tuple[dict[str, dict[str, float]], float]:
    page = f"{base}/demo/product.html"
    results: dict[str, dict[str, float]] = {}
    results["smooth-agents"] = await measure(
        "smooth-agents",
        lambda: AsyncSmoothClient(api_key=KEY, base_url=base + "/api/"),
        our_session,
        base,
        page,
        concurrent,
    )
    if not skip_sdk:
        from smooth import SmoothAsyncClient

        results["smooth-py"] = await measure(
            "smooth-py",
            lambda: SmoothAsyncClient(api_key=KEY, base_url=base + "/api/"),
            sdk_session,
            base,
            page,
            concurrent,
        )
    return results, await floor(base, page)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--skip-sdk", action="store_true", help="measure only our client")
    args = parser.parse_args()
    os.environ["SMOOTH_TELEMETRY"] = "off"

    server, base = start_server()
    try:
        results, floor_s = asyncio.run(measure_all(base, args.concurrent, args.skip_sdk))
    finally:
        server.terminate()
        server.wait(30)

    rows = [
        ("evaluate_js median (ms)", "js_median", 1000),
        ("all actions median (ms)", "median", 1000),
        ("requests per action", "requests_per_action", 1),
        ("CPU s, one session", "cpu_one", 1),
        (f"{args.concurrent} sessions: wall s", "wall_many", 1),
        (f"{args.concurrent} sessions: action median (ms)", "median_many", 1000),
        (f"{args.concurrent} sessions: requests/action", "requests_per_action_many", 1),
        (f"{args.concurrent} sessions: CPU s", "cpu_many", 1),
    ]
    names = list(results)
    print(f"\nfloor (event POST + GET returning the result), evaluate_js: {floor_s * 1000:.2f} ms")
    print(f"{'':<36}" + "".join(f"{n:>16}" for n in names) + ("   ratio sdk/ours" if len(names) == 2 else ""))
    for label, key, scale in rows:
        values = [results[n][key] * scale for n in names]
        line = f"{label:<36}" + "".join(f"{v:>16.2f}" for v in values)
        if len(values) == 2 and values[0]:
            line += f"{values[1] / values[0]:>18.1f}"
        print(line)
    ours = results["smooth-agents"]["js_median"]
    print(f"\nours / floor (evaluate_js median): {ours / floor_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
