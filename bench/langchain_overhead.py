"""What a LangChain tool call adds over the direct core call, sync and async.

The same action (evaluate_js in one open session on the local server) four ways: the sync
client, the LangChain tool's invoke (sync), the async client, the tool's ainvoke. Core and tool
calls alternate (ABAB...) so that drift on this noisy machine hits both alike; "added" is the
median of the per-pair differences. Plus a tool that makes no Smooth call (smooth_session_list),
for the adapter's own cost.

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

from langchain_tools import SmoothSessionEvaluateJsTool, SmoothSessionListTool
from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.agent_tools import BlockingToolRuntime
from smooth_agents.local import LocalServerSettings, ThreadedServer

KEY = "sk-bench-lc"


Figures = tuple[float, float, float]  # core p50, tool p50, median paired difference (ms)


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


async def atimed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def summary(core: list[float], tool: list[float]) -> Figures:
    pairs = [t - c for c, t in zip(core, tool, strict=True)]
    return statistics.median(core) * 1000, statistics.median(tool) * 1000, statistics.median(pairs) * 1000


def paired(core_call: Callable[[], Any], tool_call: Callable[[], Any], rounds: int) -> Figures:
    core_call()
    tool_call()
    core, tool = [], []
    for _ in range(rounds):
        core.append(timed(core_call))
        tool.append(timed(tool_call))
    return summary(core, tool)


async def async_side(base_url: str, runtime: BlockingToolRuntime, session_id: str, rounds: int) -> Figures:
    tool = SmoothSessionEvaluateJsTool(runtime=runtime)
    async with AsyncSmoothClient(api_key=KEY, base_url=base_url) as client:
        async with client.session() as session:

            async def core_call() -> Any:
                return await session.evaluate_js("1")

            async def tool_call() -> Any:
                return await tool.ainvoke({"session_id": session_id, "code": "1"})

            await core_call()
            await tool_call()
            core, through_tool = [], []
            for _ in range(rounds):
                core.append(await atimed(core_call))
                through_tool.append(await atimed(tool_call))
    return summary(core, through_tool)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    settings = LocalServerSettings(api_keys=frozenset({KEY}), port=0, data_dir=Path(tempfile.mkdtemp()))
    with ThreadedServer(settings) as server, SmoothClient(api_key=KEY, base_url=server.base_url) as client:
        runtime = BlockingToolRuntime(client, max_sessions=4)
        session_id = runtime.call(runtime.sessions.open).id
        tool = SmoothSessionEvaluateJsTool(runtime=runtime)
        with client.session() as session:
            sync = paired(
                lambda: session.evaluate_js("1"),
                lambda: tool.invoke({"session_id": session_id, "code": "1"}),
                rounds,
            )
        listing = SmoothSessionListTool(runtime=runtime)
        list_sync = statistics.median(timed(lambda: listing.invoke({})) for _ in range(rounds)) * 1000
        asynchronous = asyncio.run(async_side(server.base_url, runtime, session_id, rounds))
        runtime.close()
    print(f"evaluate_js over {rounds} alternating pairs (ms)")
    print(f"{'':<8}{'core p50':>10}{'tool p50':>10}{'added (paired p50)':>20}")
    for label, (core, through_tool, added) in (("sync", sync), ("async", asynchronous)):
        print(f"{label:<8}{core:>10.2f}{through_tool:>10.2f}{added:>20.2f}")
    print(f"smooth_session_list through the tool (no Smooth call), sync p50: {list_sync:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
