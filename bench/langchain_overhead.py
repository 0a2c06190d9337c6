"""What a LangChain tool call adds over the direct core call, sync and async.

The same action (evaluate_js in one open session on the local server) four ways: the sync
client, the LangChain tool's invoke (sync), the async client, the tool's ainvoke. Plus a tool
that makes no Smooth call (smooth_session_list), for the adapter's own cost.

Usage: .venv/bin/python bench/langchain_overhead.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from langchain_tools import SmoothRuntime, SmoothSessionEvaluateJsTool, SmoothSessionListTool
from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.local import LocalServerSettings, ThreadedServer

KEY = "sk-bench-lc"


def median_ms(call: Callable[[], Any], rounds: int) -> float:
    call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def amedian_ms(call: Callable[[], Awaitable[Any]], rounds: int) -> float:
    await call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def async_side(
    base_url: str, runtime: SmoothRuntime, session_id: str, rounds: int
) -> tuple[float, float]:
    async with AsyncSmoothClient(api_key=KEY, base_url=base_url) as client:
        async with client.session() as session:
            direct = await amedian_ms(lambda: session.evaluate_js("1"), rounds)
    tool = SmoothSessionEvaluateJsTool(runtime=runtime)
    through_tool = await amedian_ms(lambda: tool.ainvoke({"session_id": session_id, "code": "1"}), rounds)
    return direct, through_tool


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    settings = LocalServerSettings(api_keys=frozenset({KEY}), port=0, data_dir=Path(tempfile.mkdtemp()))
    with ThreadedServer(settings) as server, SmoothClient(api_key=KEY, base_url=server.base_url) as client:
        with client.session() as session:
            direct_sync = median_ms(lambda: session.evaluate_js("1"), rounds)
        runtime = SmoothRuntime(client, max_sessions=4)
        session_id = client.call(runtime.sessions.open).id
        tool = SmoothSessionEvaluateJsTool(runtime=runtime)
        tool_sync = median_ms(lambda: tool.invoke({"session_id": session_id, "code": "1"}), rounds)
        listing = SmoothSessionListTool(runtime=runtime)
        list_sync = median_ms(lambda: listing.invoke({}), rounds)
        direct_async, tool_async = asyncio.run(async_side(server.base_url, runtime, session_id, rounds))
        runtime.close()
    print(f"evaluate_js p50 over {rounds} calls (ms)")
    print(f"{'':<8}{'core':>10}{'LangChain tool':>16}{'added':>10}")
    print(f"{'sync':<8}{direct_sync:>10.2f}{tool_sync:>16.2f}{tool_sync - direct_sync:>10.2f}")
    print(f"{'async':<8}{direct_async:>10.2f}{tool_async:>16.2f}{tool_async - direct_async:>10.2f}")
    print(f"smooth_session_list through the tool (no Smooth call), sync: {list_sync:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
