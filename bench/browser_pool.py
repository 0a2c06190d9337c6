"""Benchmark of the local server over a pool of two browsers: load, balance, and one's death.

Starts two headless Chromium processes (DevTools on loopback, a temporary profile each), then
`smooth-agents local serve` as a subprocess pointed at both (`--browser-cdp-endpoint a,b`, a
capacity per browser, a health check every second), and over loopback HTTP:
  - opens N sessions at once (default 20), each on a page of its own, and runs one evaluate_js
    in each: open latency p50/p90/max, errors;
  - balance: how many of those pages each browser shows (its own /json/list);
  - kills one browser (SIGKILL to its process group): how many sessions fail, how long until
    the last of them is reported failed, the reasons given, and whether the survivor's sessions
    still answer;
  - opens more sessions: where they go, and what is refused once the survivor is full;
  - restarts the dead browser on the same port: how long until a new session lands on it.
Figures only; nothing is asserted against a clock.

Usage: .venv/bin/python bench/browser_pool.py [--sessions 20] [--capacity 12]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smooth_agents.local.server import free_port  # noqa: E402
from tests.chromium_nodes import CHROMIUM, ChromiumNode  # noqa: E402

KEY = "sk-bench-pool"


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<!doctype html><title>page {self.path}</title><h1>{self.path}</h1>".encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def evaluate(http: httpx2.Client, task_id: str, js: str) -> dict[str, Any]:
    event = http.post(
        f"/task/{task_id}/event",
        json={"name": "browser_action", "payload": {"name": "evaluate_js", "input": {"js": js}}},
    )
    event.raise_for_status()
    event_id = event.json()["r"]["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = http.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]
        for found in body.get("events") or []:
            if found["id"] == event_id:
                return dict(found["payload"])
        if body["status"] not in ("waiting", "running"):
            return {"code": None, "output": body["output"]}
        time.sleep(0.02)
    return {"code": None, "output": "no answer within 60 s"}


def open_session(http: httpx2.Client, url: str) -> tuple[int, str, float]:
    """(status code, task id or the refusal, seconds)."""
    started = time.perf_counter()
    try:
        response = http.post("/task", json={"task": None, "url": url})
    except httpx2.TransportError as exc:
        return 0, f"{type(exc).__name__}: {exc}", time.perf_counter() - started
    took = time.perf_counter() - started
    if response.status_code == 200:
        return 200, response.json()["r"]["id"], took
    return response.status_code, response.json().get("detail", response.text), took


def shown_by(node: ChromiumNode) -> set[str]:
    """The pages a browser shows; none when it is down."""
    try:
        return set(node.pages())
    except httpx2.TransportError:
        return set()


def placement(nodes: list[ChromiumNode], urls: list[str]) -> collections.Counter[str]:
    shown = [shown_by(node) for node in nodes]
    counted: collections.Counter[str] = collections.Counter()
    for url in urls:
        homes = [f"browser {n}" for n, pages in enumerate(shown, start=1) if url in pages]
        counted[homes[0] if len(homes) == 1 else f"on {len(homes)} browsers"] += 1
    return counted


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=12, help="per browser")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"needs {CHROMIUM}", file=sys.stderr)
        return 2

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{site.server_address[1]}"
    folder = Path(tempfile.mkdtemp(prefix="smooth-bench-pool-"))
    nodes = [ChromiumNode(folder / f"node-{n}") for n in (1, 2)]
    server: subprocess.Popen[bytes] | None = None
    try:
        for node in nodes:
            node.folder.mkdir()
            node.start()
        port = free_port()
        command = [sys.executable, "-m", "smooth_agents.cli", "local", "serve", "--port", str(port)]
        command += ["--api-key", KEY, "--data-dir", str(folder / "data"), "--no-recording"]
        command += ["--max-sessions", str(args.sessions * 3), "--log-level", "warning"]
        command += ["--browser-cdp-endpoint", ",".join(node.endpoint for node in nodes)]
        command += ["--browser-endpoint-capacity", str(args.capacity), "--browser-health-interval", "1"]
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=(folder / "server.log").open("wb")
        )
        # No kept-alive connections: one the server closes as idle while a request starts on it
        # would count as a failure of the pool.
        http = httpx2.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"apikey": KEY},
            timeout=120,
            limits=httpx2.Limits(max_keepalive_connections=0),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                http.get("/task", params={"limit": 1})
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        "the server did not start; see " + str(folder / "server.log")
                    ) from None
                time.sleep(0.1)
        # One session first: the pool connects on first use, which is not what is measured.
        code, warm, _ = open_session(http, base + "/warm")
        assert code == 200, warm
        evaluate(http, warm, "1")
        http.delete(f"/task/{warm}")

        print(f"pool: 2 Chromium over CDP, capacity {args.capacity} each, health check every 1 s")
        urls = [base + f"/load/{n}" for n in range(args.sessions)]
        with ThreadPoolExecutor(args.sessions) as workers:
            opened = list(workers.map(lambda url: open_session(http, url), urls))
        ids = [task for code, task, _ in opened if code == 200]
        opens = [took for code, _, took in opened if code == 200]
        errors = [task for code, task, _ in opened if code != 200]
        with ThreadPoolExecutor(args.sessions) as workers:
            answers = list(workers.map(lambda task: evaluate(http, task, "document.title"), ids))
        print(
            f"\n{args.sessions} sessions opened at once: {len(ids)} ok, {len(errors)} refused; open "
            f"p50 {pct(opens, 0.5) * 1000:.0f} ms, p90 {pct(opens, 0.9) * 1000:.0f} ms, max "
            f"{max(opens) * 1000:.0f} ms; evaluate_js ok in {sum(a['code'] == 200 for a in answers)}"
        )
        counted = placement(nodes, urls)
        print("balance:", ", ".join(f"{where} {n}" for where, n in sorted(counted.items())))

        shown = [shown_by(node) for node in nodes]
        on_first = [task for task, url in zip(ids, urls, strict=False) if url in shown[0]]
        on_second = [task for task in ids if task not in on_first]
        killed_at = time.monotonic()
        nodes[0].kill()
        failed_after: dict[str, float] = {}
        reasons: collections.Counter[str] = collections.Counter()
        deadline = time.monotonic() + 60
        while len(failed_after) < len(on_first) and time.monotonic() < deadline:
            for task in on_first:
                if task in failed_after:
                    continue
                response = http.get(f"/task/{task}")
                if response.status_code == 200:
                    body = response.json()["r"]
                    failed_after[task] = time.monotonic() - killed_at
                    reasons[f"{body['status']}: {body['output']}"] += 1
            time.sleep(0.05)
        print(
            f"\nbrowser 1 killed (SIGKILL) with {len(on_first)} sessions: {len(failed_after)} reported "
            f"ended, the last after {max(failed_after.values(), default=float('nan')):.2f} s "
            f"(first {min(failed_after.values(), default=float('nan')):.2f} s)"
        )
        for reason, n in reasons.items():
            print(f"  {n} x {reason}")
        with ThreadPoolExecutor(max(1, len(on_second))) as workers:
            still = list(workers.map(lambda task: evaluate(http, task, "1 + 1"), on_second))
        print(f"browser 2's {len(on_second)} sessions: {sum(a['code'] == 200 for a in still)} still answer")

        more = [base + f"/after/{n}" for n in range(args.capacity - len(on_second) + 2)]
        after = [open_session(http, url) for url in more]
        placed = placement(nodes, [url for url, got in zip(more, after, strict=False) if got[0] == 200])
        refused = [got for got in after if got[0] != 200]
        print(
            f"{len(more)} more sessions: {len(more) - len(refused)} placed ("
            + ", ".join(f"{where} {n}" for where, n in sorted(placed.items()))
            + f"), {len(refused)} refused"
        )
        if refused:
            print(f"  refusal: {refused[0][0]} {refused[0][1]}")

        restarted_at = time.monotonic()
        nodes[0].start()
        back = base + "/back"
        while True:
            code, task, _ = open_session(http, back)
            if code == 200:
                break
            if time.monotonic() - restarted_at > 60:
                print("browser 1 did not rejoin within 60 s")
                return 1
            time.sleep(0.05)
        where = placement(nodes, [back])
        print(
            f"\nbrowser 1 restarted on the same port: a new session was placed "
            f"{time.monotonic() - restarted_at:.2f} s later, on {', '.join(where)}"
        )
        print(
            f"(mean open under load {statistics.mean(opens) * 1000:.0f} ms; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        for node in nodes:
            node.kill()
        site.shutdown()
        site.server_close()


if __name__ == "__main__":
    raise SystemExit(main())
