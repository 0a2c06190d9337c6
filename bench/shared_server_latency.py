"""One request's round trip to the shared local server, this tree beside others.

The shared server (``smooth_agents.shared_server``, a process of its own) is started in a private
folder, a client sends ``--requests`` GETs in a row on one kept-alive connection (an unknown task:
the answer is small and costs the server nothing), and the server is stopped. Each tree runs in a
process of its own with its code first on the path; trees alternate, so a noisy machine slows
them alike. The figure is the median and 90th percentile of the round trip, the first five
requests left out (connection set-up).

A listener made without naming TCP kept Nagle's algorithm on, and each answer (headers, then
body, two writes) waited some 40 ms for the client's delayed ACK.

    .venv/bin/python bench/shared_server_latency.py --baseline-tree /tmp/base [--rounds 2]

(``git archive <commit> | tar -x -C /tmp/base`` makes a baseline tree.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def measure(requests: int) -> list[float]:
    import httpx2

    from smooth_agents.shared_server import SharedLocalServer, stop_shared

    folder = Path(tempfile.mkdtemp(prefix="smooth-bench-shared-"))
    endpoint = await SharedLocalServer.find_or_start(folder=folder, idle_timeout=60).endpoint()
    times: list[float] = []
    try:
        async with httpx2.AsyncClient(
            base_url=endpoint.base_url, headers={"apikey": endpoint.api_key}, transport=endpoint.transport()
        ) as client:
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get("task/no-such-task")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 404, response.text
    finally:
        await asyncio.to_thread(stop_shared, folder)
    return times[5:]


def run_tree(tree: Path, requests: int) -> list[float]:
    """The round trips measured by a process running ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(requests)]
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, timeout=300, check=True)
    return [float(value) for value in done.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline-tree", type=Path, action="append", default=[])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(" ".join(f"{value:.3f}" for value in asyncio.run(measure(args.child))))
        return
    trees = [("this tree", ROOT)] + [(str(tree), tree) for tree in args.baseline_tree]
    times: dict[str, list[float]] = {name: [] for name, _ in trees}
    for round_ in range(args.rounds):
        order = trees if round_ % 2 == 0 else list(reversed(trees))
        for name, tree in order:
            times[name] += run_tree(tree, args.requests)
    ours = statistics.median(times["this tree"])
    print(f"\nShared local server, one GET's round trip ({args.rounds} x {args.requests - 5} requests, ms)\n")
    print(f"{'tree':<30}{'p50':>8}{'p90':>8}{'p50 vs this tree':>20}")
    for name, values in times.items():
        values.sort()
        p50, p90 = statistics.median(values), values[int(0.9 * (len(values) - 1))]
        print(f"{name:<30}{p50:>8.1f}{p90:>8.1f}{p50 / ours:>19.1f}x")


if __name__ == "__main__":
    main()
