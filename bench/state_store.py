"""Sessions per minute through smooth-mcp replicas sharing a Redis store (issue 29, item 4).

Three setups over one local Smooth server (real Chromium) and one test page, each a set of
smooth-mcp processes (streamable HTTP, --stateless): one replica with no store (process memory);
one replica with --state-url; two replicas with --state-url, each call sent to the other replica
than the one before (a load balancer without sticky routing). Clients run ``--clients`` at once;
each session is opened on the page, read once (evaluate_js) and closed: three calls, a new MCP
connection each. Printed per setup: wall time, sessions per minute, the replicas' round trips to
Redis per session (each step of the store is one script call), and the commands Redis ran for them
(those inside the scripts included), by name.

The machine's cores bound what two replicas can add: the browser does most of the work, and it is
the one local server either way. What two replicas must not add is a slowdown.

Usage: .venv/bin/python bench/state_store.py [--sessions 24] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smooth_agents.local import ThreadedServer  # noqa: E402
from tests.helpers import SiteServer, make_settings  # noqa: E402
from tests.mcp.test_ownership import TOKENS, mcp_client  # noqa: E402
from tests.mcp.test_transports import http_server, server_env  # noqa: E402
from tests.redis_server import redis_server  # noqa: E402


def commands_so_far(url: str) -> dict[str, int]:
    """Commands Redis has served so far, by name."""
    with redis.Redis.from_url(url) as probe:
        info = probe.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in info.items()}


async def one_session(replicas: itertools.cycle[str], page: str) -> None:
    async def call(name: str, arguments: dict[str, object]) -> dict[str, object]:
        async with mcp_client("streamable-http-stateless", next(replicas), TOKENS[0]) as mcp:
            result = await mcp.call_tool(name, arguments)
        if result.is_error or result.structured_content is None:
            raise SystemExit(f"{name} failed: {result.content}")
        return dict(result.structured_content)

    opened = await call("smooth_session_open", {"url": page})
    session_id = opened["session_id"]
    await call("smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"})
    await call("smooth_session_close", {"session_id": session_id})


async def run(bases: list[str], page: str, sessions: int, clients: int) -> float:
    replicas = itertools.cycle(bases)
    left = iter(range(sessions))

    async def client() -> None:
        for _ in left:
            await one_session(replicas, page)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        site = stack.enter_context(SiteServer())
        local = stack.enter_context(
            ThreadedServer(make_settings(folder / "smooth", max_concurrent_sessions=32))
        )
        url = stack.enter_context(redis_server(folder))
        env = {**server_env(local), "SMOOTH_MCP_AUTH_TOKEN": ",".join(TOKENS)}
        common = ("--stateless", "--max-sessions", "32")
        page = site.url("demo/index.html")
        setups = [
            ("one replica, process memory", 1, ()),
            ("one replica, --state-url", 1, ("--state-url", url)),
            ("two replicas, --state-url", 2, ("--state-url", url)),
        ]
        print(f"{args.sessions} sessions, {args.clients} clients at once; each: open, evaluate_js, close")
        print(f"{'setup':<30} {'wall s':>8} {'sessions/min':>13} {'round trips/session':>20}  commands")
        for name, count, flags in setups:
            with ExitStack() as replicas:
                bases = [
                    replicas.enter_context(http_server(env, "streamable-http", *common, *flags))[0]
                    for _ in range(count)
                ]
                asyncio.run(run(bases, page, 2, 2))  # warm up: the browser, the imports, the store
                before = commands_so_far(url)
                wall = asyncio.run(run(bases, page, args.sessions, args.clients))
                after = commands_so_far(url)
            after["info"] -= 1  # the bench's own
            sent = {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}
            per_minute = args.sessions / wall * 60
            trips = (sent.get("evalsha", 0) + sent.get("eval", 0)) / args.sessions
            print(f"{name:<30} {wall:>8.1f} {per_minute:>13.1f} {trips:>20.1f}  {sent}")


if __name__ == "__main__":
    main()
