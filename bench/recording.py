"""What recording a task's video costs on the local server (enable_recording, the API's default).

Starts `smooth-agents local serve --scripted-agent` as a subprocess (its process tree is its own:
the server, the Playwright driver, Chromium and the recorder's ffmpeg), warms the browser up,
then runs the same task with and without a recording, alternating, and reports per task:
  - wall time from POST /task to the final GET (the video is finished before the task's status
    turns final, so its cost shows here);
  - CPU seconds of the whole server tree (every live process's own time plus that of children it
    has reaped: each task's ffmpeg is counted when it exits);
  - the size of the recording.
Two kinds of task: a still page (Chromium sends frames only when something changes) and a page
that moves the whole time (an animation: a frame every 40 ms, the worst case).

Usage: .venv/bin/python bench/recording.py [--rounds 5] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx2
import psutil

from smooth_agents.local.server import free_port

KEY = "sk-bench-recording"
ANIMATE = (
    "(() => { const box = document.createElement('div'); box.textContent = 'moving';"
    " box.style.cssText = 'position:fixed;top:40px;left:0;width:200px;height:120px;background:#c33';"
    " document.body.append(box);"
    " box.animate([{transform: 'translateX(0)'}, {transform: 'translateX(900px)'}],"
    " {duration: 1500, iterations: Infinity}); })()"
)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants, the reaped ones included."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def one_task(
    http: httpx2.Client, pid: int, page: str, seconds: float, record: bool, moving: bool
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"action": "goto", "url": page}]
    if moving:
        steps.append({"action": "evaluate_js", "js": ANIMATE})
    steps += [{"action": "sleep", "seconds": seconds}, {"action": "return", "output": "ok"}]
    cpu_before = tree_cpu(pid)
    started = time.perf_counter()
    task_id = http.post(
        "/task", json={"task": "script:" + json.dumps(steps), "enable_recording": record}
    ).json()["r"]["id"]
    while True:
        response = http.get(f"/task/{task_id}")
        if response.status_code == 200:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    cpu = tree_cpu(pid) - cpu_before
    body = response.json()["r"]
    assert body["status"] == "done", body
    size = 0
    if record:
        assert body["recording_url"], "no recording: is Playwright's ffmpeg installed?"
        size = len(httpx2.get(body["recording_url"], timeout=30).content)
    return {"wall": wall, "cpu": cpu, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each task stays on its page")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        command = [
            sys.executable, "-m", "smooth_agents.cli", "local", "serve", "--port", str(port),
            "--scripted-agent", "--api-key", KEY, "--data-dir", data, "--log-level", "warning",
        ]  # fmt: skip
        server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx2.Client(base_url=base + "/api/v1", headers={"apikey": KEY}, timeout=60) as http:
                for _ in range(200):
                    try:
                        http.get("/task")
                        break
                    except httpx2.TransportError:
                        time.sleep(0.1)
                page = base + "/demo/product.html"
                one_task(http, server.pid, page, 0.2, True, False)  # the browser started, warmed up
                print(f"{args.rounds} tasks of each kind, {args.seconds:g} s on the page, 1280x800 desktop")
                for moving in (False, True):
                    results: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
                    for _ in range(args.rounds):
                        for record in (False, True):
                            results[record].append(
                                one_task(http, server.pid, page, args.seconds, record, moving)
                            )
                    kind = "moving page" if moving else "still page "
                    for record in (False, True):
                        runs = results[record]
                        wall = statistics.median(r["wall"] for r in runs)
                        cpu = statistics.median(r["cpu"] for r in runs)
                        size = statistics.median(r["bytes"] for r in runs)
                        label = "recorded    " if record else "not recorded"
                        extra = f", video {size / 1024:.0f} KiB" if record else ""
                        print(f"  {kind} {label}: wall {wall:.2f} s, CPU {cpu:.2f} s per task{extra}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
