"""How the poller behaves for actions of different lengths: added latency and requests per action.

Two modes side by side on the same local server over loopback HTTP: long polling (what the
client uses when the server announces it) and timer polling (what it falls back to against a
server that does not, such as one behind a proxy that strips the header), the latter with the
default request budget (10 a second for the client) and with one lifted to 1000 a second (what the
schedule alone does on loopback, as before the budget existed). Each action is an
evaluate_js that resolves after D ms; "added" is the client's latency minus D.

Usage: .venv/bin/python bench/polling.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from smooth_agents import AsyncSmoothClient, PollSettings
from smooth_agents.local import LocalServerSettings, ThreadedServer

KEY = "sk-bench-polling"
DURATIONS_MS = [10, 100, 500, 2000]


async def measure(
    base_url: str, long_poll: bool, rounds: int, rps: float | None = None
) -> dict[int, tuple[float, float]]:
    figures: dict[int, tuple[float, float]] = {}
    poll = PollSettings(long_poll=long_poll)
    if rps is not None:
        poll = dataclasses.replace(poll, requests_per_second=rps, burst=max(poll.burst, rps / 5))
    async with AsyncSmoothClient(api_key=KEY, base_url=base_url, poll=poll) as client:
        async with client.session() as session:
            await session.evaluate_js("1")  # warm-up (and long-poll discovery)
            for duration in DURATIONS_MS:
                js = f"new Promise(r => setTimeout(() => r(1), {duration}))"
                added, requests = [], []
                for _ in range(rounds):
                    sent = client.requests_sent
                    started = time.perf_counter()
                    await session.evaluate_js(js)
                    added.append(time.perf_counter() - started - duration / 1000)
                    requests.append(client.requests_sent - sent)
                figures[duration] = (statistics.median(added), statistics.mean(requests))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    settings = LocalServerSettings(api_keys=frozenset({KEY}), port=0, data_dir=Path(tempfile.mkdtemp()))
    with ThreadedServer(settings) as server:
        long_poll = asyncio.run(measure(server.base_url, True, rounds))
        timer = asyncio.run(measure(server.base_url, False, rounds))
        unbounded = asyncio.run(measure(server.base_url, False, rounds, rps=1000.0))
    print(
        f"{'action':>8} | {'long poll: added ms':>20} {'requests':>9} "
        f"| {'timer: added ms':>16} {'requests':>9} | {'timer, 1000 req/s: ms':>21} {'requests':>9}"
    )
    for duration in DURATIONS_MS:
        (la, lr), (ta, tr), (ua, ur) = long_poll[duration], timer[duration], unbounded[duration]
        print(
            f"{duration:>6}ms | {la * 1000:>20.1f} {lr:>9.2f} | {ta * 1000:>16.1f} {tr:>9.2f} "
            f"| {ua * 1000:>21.1f} {ur:>9.2f}"
        )
    mean_long = statistics.mean(r for _, r in long_poll.values())
    mean_timer = statistics.mean(r for _, r in timer.values())
    print(f"mean requests per action, 10 ms to 2 s: long poll {mean_long:.2f}, timer {mean_timer:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
