"""Benchmarks of the MCP server, with baselines side by side.

1. Cold start over stdio: spawn to the first tools/list answer, ours beside a bare MCPServer
   holding one trivial tool (bench/bare_mcp_server.py).
2. Added latency per tool call: smooth_session_evaluate_js through MCP (in process, and over
   stdio) beside the same action through the core client directly, on one local server.
3. A session evaluate_js through MCP on the embedded server (no key), p50.
4. 100 concurrent tool calls over streamable HTTP (10 sessions x 10 evaluate_js), wall and errors.

Usage: .venv/bin/python bench/mcp_latency.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import LocalServerSettings, ThreadedServer
from smooth_agents.local.server import free_port

KEY = "sk-bench-mcp"
HERE = Path(__file__).resolve().parent
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}


def cold_start(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(INIT) + "\n")
    process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
    process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}) + "\n")
    process.stdin.flush()
    while True:
        message = json.loads(process.stdout.readline())
        if message.get("id") == 2:
            break
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.wait(30)
    process.stdout.close()
    return elapsed


async def timed_calls(call: Any, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def alternate(first: Any, second: Any, rounds: int) -> tuple[float, float, float]:
    """p50 of each, and the p50 of per-pair differences (second - first), calls alternating."""
    await first()
    await second()
    a, b = [], []
    for _ in range(rounds):
        a += await timed_calls(first, 1)
        b += await timed_calls(second, 1)
    return p50(a), p50(b), p50([y - x for x, y in zip(a, b, strict=True)])


async def added_latency(base_url: str, env: dict[str, str], rounds: int) -> dict[str, float]:
    """evaluate_js on one session: the core call and the MCP call alternate, so that drift on a
    noisy machine hits both alike; 'added' is the median of the paired differences."""
    figures: dict[str, float] = {}
    async with AsyncSmoothClient(api_key=KEY, base_url=base_url) as client:
        server, _ = build_server(MCPSettings(), client=client)
        async with Client(server) as mcp:
            sid = (await mcp.call_tool("smooth_session_open", {})).structured_content["session_id"]  # type: ignore[index]
            session = await client.attach_session(sid)
            args = {"session_id": sid, "code": "1"}
            core, through_mcp, added = await alternate(
                lambda: session.evaluate_js("1"),
                lambda: mcp.call_tool("smooth_session_evaluate_js", args),
                rounds,
            )
            figures["direct core call"] = core
            figures["MCP in process"] = through_mcp
            figures["MCP in process, added (paired p50)"] = added
            list_only = p50(await timed_calls(lambda: mcp.call_tool("smooth_session_list", {}), rounds))
            figures["MCP in process, no Smooth call (session_list)"] = list_only
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env)
    async with AsyncSmoothClient(api_key=KEY, base_url=base_url) as client, Client(parameters) as mcp:
        sid = (await mcp.call_tool("smooth_session_open", {})).structured_content["session_id"]  # type: ignore[index]
        session = await client.attach_session(sid)
        args = {"session_id": sid, "code": "1"}
        _, over_stdio, added = await alternate(
            lambda: session.evaluate_js("1"),
            lambda: mcp.call_tool("smooth_session_evaluate_js", args),
            rounds,
        )
        figures["MCP over stdio"] = over_stdio
        figures["MCP over stdio, added (paired p50)"] = added
    return figures


async def embedded_evaluate(rounds: int, data_dir: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env["SMOOTH_LOCAL_DATA_DIR"] = data_dir
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env)
    async with Client(parameters) as mcp:
        sid = (await mcp.call_tool("smooth_session_open", {})).structured_content["session_id"]  # type: ignore[index]
        args = {"session_id": sid, "code": "document.title"}
        await mcp.call_tool("smooth_session_evaluate_js", args)
        return p50(await timed_calls(lambda: mcp.call_tool("smooth_session_evaluate_js", args), rounds))


async def concurrent_http(env: dict[str, str]) -> tuple[float, int, float]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcp_server",
            "--transport",
            "streamable-http",
            "--port",
            str(port),
            "--max-sessions",
            "16",
        ],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(600):
            try:
                httpx2.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx2.TransportError:
                await asyncio.sleep(0.05)
        async with Client(streamable_http_client(url)) as mcp:
            sids = [
                (await mcp.call_tool("smooth_session_open", {})).structured_content["session_id"]  # type: ignore[index]
                for _ in range(10)
            ]
            latencies: list[float] = []
            errors = 0

            async def one(sid: str) -> None:
                nonlocal errors
                started = time.perf_counter()
                result = await mcp.call_tool("smooth_session_evaluate_js", {"session_id": sid, "code": "1"})
                latencies.append(time.perf_counter() - started)
                errors += int(result.is_error)

            started = time.perf_counter()
            await asyncio.gather(*(one(sid) for sid in sids for _ in range(10)))
            wall = time.perf_counter() - started
        return wall, errors, p50(latencies)
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    data_dir = tempfile.mkdtemp(prefix="smooth-bench-mcp-")
    settings = LocalServerSettings(api_keys=frozenset({KEY}), port=0, data_dir=Path(data_dir))
    with ThreadedServer(settings) as local:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
        env.update({"SMOOTH_API_KEY": KEY, "SMOOTH_BASE_URL": local.base_url})

        ours = statistics.median(cold_start([sys.executable, "-m", "mcp_server"], env) for _ in range(runs))
        bare = statistics.median(
            cold_start([sys.executable, str(HERE / "bare_mcp_server.py")], env) for _ in range(runs)
        )
        print("cold start over stdio, spawn to the first tools/list answer (median s)")
        print(f"  smooth-mcp {ours:.3f}   bare MCPServer {bare:.3f}   ratio {ours / bare:.2f}")

        latency = asyncio.run(added_latency(local.base_url, env, rounds=100))
        print("\nsmooth_session_evaluate_js p50 (ms), core and MCP calls alternating on one session")
        for label, value in latency.items():
            print(f"  {label:<48}{value:>8.2f}")

        wall, errors, median = asyncio.run(concurrent_http(env))
        print(
            f"\n100 concurrent tool calls over streamable HTTP (10 sessions x 10 evaluate_js): "
            f"{wall:.2f} s wall, {errors} errors, p50 {median:.1f} ms"
        )

    embedded = asyncio.run(embedded_evaluate(30, data_dir))
    print(f"\nsession evaluate_js through MCP on the embedded server (stdio), p50: {embedded:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
