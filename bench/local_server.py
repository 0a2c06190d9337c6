"""Benchmark of the local Smooth-compatible server: per-step latency, concurrency, memory.

Starts `smooth-agents local serve` as a subprocess (so its memory is its own), warms the browser
up, then measures over loopback HTTP:
  - p50/p90 of each session step: open (POST /task until running), goto to a local page,
    evaluate_js, close (DELETE); action steps are timed from the event POST until the result
    event is seen by a tight poll, and the server's own `duration` is shown beside them;
  - the floor: one GET /task/{id} round trip, for a ratio that survives a noisy machine;
  - N concurrent sessions (open, goto, 5 x evaluate_js, close) with their error count;
  - the server process's resident memory without Chromium (children excluded), and the
    browser tree's beside it.

Usage: .venv/bin/python bench/local_server.py [--rounds 30] [--concurrent 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import httpx2
import psutil

from smooth_agents.local.server import free_port

KEY = "sk-bench-local"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def action(http: httpx2.Client, task_id: str, name: str, payload: dict[str, Any]) -> tuple[float, float]:
    """(client-observed seconds, server-reported seconds) of one session action."""
    started = time.perf_counter()
    event_id = http.post(f"/task/{task_id}/event", json={"name": name, "payload": payload}).json()["r"]["id"]
    last = 0
    while True:
        body = http.get(f"/task/{task_id}", params={"event_t": last}).json()["r"]
        for event in body["events"]:
            last = max(last, event["timestamp"])
            if event["id"] == event_id:
                result = event["payload"]
                assert result["code"] == 200, result
                return time.perf_counter() - started, float(result["output"]["duration"])


def one_session(http: httpx2.Client, page: str, js_rounds: int = 1) -> dict[str, float]:
    times: dict[str, float] = {}
    started = time.perf_counter()
    task = http.post("/task", json={"task": None}).json()["r"]
    assert task["status"] == "running", task
    times["open"] = time.perf_counter() - started
    times["goto"], times["goto_server"] = action(
        http, task["id"], "browser_action", {"name": "goto", "input": {"url": page}}
    )
    for _ in range(js_rounds):
        times["evaluate_js"], times["evaluate_js_server"] = action(
            http, task["id"], "browser_action", {"name": "evaluate_js", "input": {"js": "document.title"}}
        )
    started = time.perf_counter()
    floor_task = task["id"]
    http.get(f"/task/{floor_task}")
    times["floor_get"] = time.perf_counter() - started
    started = time.perf_counter()
    assert http.delete(f"/task/{task['id']}").json() == {"r": True}
    times["close"] = time.perf_counter() - started
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=16)
    args = parser.parse_args()

    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="smooth-bench-")
    command = [sys.executable, "-m", "smooth_agents.cli", "local", "serve", "--port", str(port)]
    command += ["--api-key", KEY, "--data-dir", data_dir, "--log-level", "warning", "--max-sessions", "64"]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=base + "/api/v1", headers={"apikey": KEY}, timeout=60) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get("/task")
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            process = psutil.Process(server.pid)
            rss_idle = process.memory_info().rss
            page = f"{base}/demo/product.html"
            one_session(http, page)  # browser start-up is not part of the figures
            rounds = [one_session(http, page) for _ in range(args.rounds)]

            print(f"local server, {args.rounds} sessions, browser already running (seconds, loopback HTTP)")
            print(f"{'step':<22}{'p50':>10}{'p90':>10}{'p50 / floor':>14}")
            floor = statistics.median(r["floor_get"] for r in rounds)
            for step in (
                "open",
                "goto",
                "goto_server",
                "evaluate_js",
                "evaluate_js_server",
                "close",
                "floor_get",
            ):
                values = [r[step] for r in rounds]
                print(
                    f"{step:<22}{statistics.median(values):>10.4f}{pct(values, 0.9):>10.4f}"
                    f"{statistics.median(values) / floor:>14.1f}"
                )

            errors: list[str] = []

            def worker() -> None:
                try:
                    with httpx2.Client(base_url=base + "/api/v1", headers={"apikey": KEY}, timeout=60) as own:
                        one_session(own, page, js_rounds=5)
                except Exception as exc:  # counted and shown, the run goes on
                    errors.append(repr(exc))

            threads = [threading.Thread(target=worker) for _ in range(args.concurrent)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            print(
                f"\n{args.concurrent} concurrent sessions (open, goto, 5 x evaluate_js, close): "
                f"{wall:.2f} s wall, {len(errors)} errors"
            )
            for error in errors[:5]:
                print("  ", error)

            rss = process.memory_info().rss
            browser_rss = sum(c.memory_info().rss for c in process.children(recursive=True) if c.is_running())
            print(
                f"\nserver RSS without Chromium: {rss_idle / 2**20:.1f} MiB idle, "
                f"{rss / 2**20:.1f} MiB after the run; Chromium and driver: {browser_rss / 2**20:.1f} MiB"
            )
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
