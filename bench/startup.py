"""Start-up over stdio, side by side with playwright-mcp and a bare MCP server, runs interleaved.

What a host waits for, each moment measured from the spawn of the server process (a fresh
process per run, no Smooth key, the system Chromium):

- ours: ``initialize`` answered, ``tools/list`` answered, the local server ready and Chromium
  ready (the server's own log lines on stderr, stamped as they arrive), and the first page open
  and readable (``smooth_session_open(url)`` answered);
- ours, shared warm (``--shared-browser``, the shared server already running): the same;
- before (``--baseline-tree DIR``, another checkout run the same way, e.g. the last commit:
  ``git archive HEAD | tar -x -C DIR``): the same;
- playwright-mcp (@playwright/mcp, pinned below, same system Chromium, headless): ``initialize``,
  ``tools/list``, then ``browser_navigate(url)`` and ``browser_snapshot`` answered;
- bare: a bare MCPServer with one trivial tool (bench/bare_mcp_server.py), ``tools/list``.

Then (``--pause``, 3 s by default) the first call when the host's user is still typing: the
handshake, a pause while the browser starts, then ``smooth_session_open(url)``, timed from the
call; with the spare context (local/browser/spare.py) and without it (SMOOTH_LOCAL_SPARE_CONTEXT=0).

Then a process per call with ``--shared-browser``, as langchain-mcp-adapters' default mode runs a
server: spawn, ``initialize``, one ``tools/call``, stdin closed, process ended. The first process
starts the shared server (cold); later ones find it warm. One opens a session, the next process
drives it (``smooth_session_goto``), the last closes it.

The page is the demo article, served by ``python -m http.server`` in a process of its own. Runs
alternate between the servers (in turn, the order reversed every other run) so that a noisy
machine slows them alike; the table gives medians, each against playwright-mcp's (and the
median of per-run ratios, "paired"), and tools/list against the bare server's. "first page, CPU
(all processes)" is the processor time the server and every process under it (the Playwright
driver, Chromium) had used by the first page: what the start costs a
two-core machine, on which the work of both cores bounds how soon the first page can come.

playwright-mcp is installed on first use into ``.cache/playwright-mcp`` with npm (as
bench/page_state.py does); without npm, or with ``--skip-playwright-mcp``, it is left out.

Usage: .venv/bin/python bench/startup.py [--runs 7] [--pause 3] [--baseline-tree DIR] [--skip-playwright-mcp]
       [--skip-shared]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.playwright_mcp import ensure_playwright_mcp  # noqa: E402

DEMO_SITE = ROOT / "smooth_agents" / "local" / "demo_site"
BARE_SERVER = Path(__file__).with_name("bare_mcp_server.py")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROTOCOL = "2025-06-18"
# The server's log lines that mark its start-up (SMOOTH_MCP_LOG_LEVEL=info), by the moment named.
LOG_MARKS = {
    "local server ready": "local server ready",
    "Chromium ready": "browser started",
}


class Wire:
    """JSON-RPC over a process's pipes; every line read is stamped (``time.perf_counter``) as it
    arrives, stderr's too."""

    def __init__(self, process: asyncio.subprocess.Process, spawned: float) -> None:
        self.process = process
        self.spawned = spawned
        self.log: list[tuple[float, str]] = []
        self._answers: dict[Any, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self._next_id = 0
        self._readers = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._read_stderr())]

    @classmethod
    async def spawn(cls, command: list[str], env: dict[str, str], cwd: Path | None = None) -> Wire:
        spawned = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            limit=2**24,
        )
        return cls(process, spawned)

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            arrived = time.perf_counter()
            message = json.loads(line)
            waiting = self._answers.pop(message.get("id"), None)
            if waiting is not None and not waiting.done():
                waiting.set_result((arrived, message))

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.log.append((time.perf_counter(), line.decode(errors="replace").rstrip()))

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())

    async def request(
        self, method: str, params: dict[str, Any] | None = None
    ) -> tuple[float, dict[str, Any]]:
        """The answer and when it came, in seconds since the spawn."""
        self._next_id += 1
        answer = asyncio.get_running_loop().create_future()
        self._answers[self._next_id] = answer
        self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or {}})
        arrived, message = await asyncio.wait_for(answer, 120)
        if "error" in message or message.get("result", {}).get("isError"):
            raise RuntimeError(f"{method} failed: {json.dumps(message)[:500]}")
        return arrived - self.spawned, message

    async def initialize(self) -> float:
        """``initialize``, then ``notifications/initialized``; when the answer came."""
        hello = {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        }
        answered, _ = await self.request("initialize", hello)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answered

    async def handshake(self) -> dict[str, float]:
        """``initialize`` and ``tools/list``, as a host starting a session sends them; and the
        processor time the server process had used by then (Linux), a figure a busy machine
        disturbs far less than the time on the clock."""
        marks = {"initialize": await self.initialize()}
        marks["tools/list"], _ = await self.request("tools/list")
        used = self.cpu_seconds()
        if used is not None:
            marks["tools/list, CPU"] = used
        return marks

    def cpu_seconds(self) -> float | None:
        """User and system time of the server process so far (its children not counted)."""
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tree_cpu_seconds(self) -> float | None:
        """User and system time so far of the server process and every process under it (the
        Playwright driver, Chromium's processes): what the first page cost the machine, whose two
        cores both parts share."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        used = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                used += times.user + times.system + times.children_user + times.children_system
        return used

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        return await self.request("tools/call", {"name": tool, "arguments": arguments})

    def logged(self, text: str) -> float | None:
        """When a stderr line holding ``text`` arrived, in seconds since the spawn."""
        return next((at - self.spawned for at, line in self.log if text in line), None)

    async def close(self) -> float:
        """Close stdin (the host is done) and wait for the process to end; seconds since spawn."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        ended = time.perf_counter() - self.spawned
        for reader in self._readers:
            await reader
        return ended


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def our_env(data_dir: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update(
        SMOOTH_LOCAL_DATA_DIR=data_dir,
        SMOOTH_LOCAL_BROWSER=CHROMIUM,
        SMOOTH_LOCAL_RECORDING="0",
        SMOOTH_MCP_LOG_LEVEL="info",
        **extra,
    )
    return env


async def ours(
    page: str, env: dict[str, str], *flags: str, cwd: Path | None = None, pause: float = 0.0
) -> dict[str, float]:
    wire = await Wire.spawn([sys.executable, "-m", "mcp_server", *flags], env, cwd=cwd)
    try:
        marks = await wire.handshake()
        if pause:  # the host's user is still typing: the call comes once the start is over
            await asyncio.sleep(pause)
            asked = time.perf_counter() - wire.spawned
            answered, opened = await wire.call("smooth_session_open", {"url": page})
            marks["first call, after the pause"] = answered - asked
            session_id = opened["result"]["structuredContent"]["session_id"]
            await wire.call("smooth_session_close", {"session_id": session_id})
            return marks
        marks["first page"], opened = await wire.call("smooth_session_open", {"url": page})
        first_page_cpu(marks, wire)
        if "--shared-browser" in flags:  # not left open in the shared server for the next runs
            session_id = opened["result"]["structuredContent"]["session_id"]
            await wire.call("smooth_session_close", {"session_id": session_id})
    finally:
        marks["ended"] = await wire.close()
    for name, text in LOG_MARKS.items():
        at = wire.logged(text)
        if at is not None:
            marks[name] = at
    return marks


def first_page_cpu(marks: dict[str, float], wire: Wire) -> None:
    used = wire.tree_cpu_seconds()
    if used is not None:
        marks["first page, CPU (all processes)"] = used


async def theirs(page: str, binary: Path, workspace: str) -> dict[str, float]:
    command = [str(binary), "--executable-path", CHROMIUM, "--headless", "--no-sandbox", "--isolated"]
    command += ["--output-dir", workspace]
    wire = await Wire.spawn(command, dict(os.environ), cwd=Path(workspace))
    try:
        marks = await wire.handshake()
        await wire.call("browser_navigate", {"url": page})
        marks["first page"], _ = await wire.call("browser_snapshot", {})
        first_page_cpu(marks, wire)
    finally:
        marks["ended"] = await wire.close()
    return marks


async def bare() -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    wire = await Wire.spawn([sys.executable, str(BARE_SERVER)], env)
    try:
        return await wire.handshake()
    finally:
        await wire.close()


async def per_call(
    env: dict[str, str], tool: str, arguments: dict[str, Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    """One process for one call, as langchain-mcp-adapters' default mode runs a server."""
    wire = await Wire.spawn([sys.executable, "-m", "mcp_server", "--shared-browser"], env)
    try:
        marks = {"initialize": await wire.initialize()}  # the adapters list tools apart, once
        marks["call answered"], answer = await wire.call(tool, arguments)
    finally:
        marks["ended"] = await wire.close()
    return marks, answer["result"]["structuredContent"]


async def shared_round(page: str, env: dict[str, str]) -> dict[str, float]:
    """Open a session in one process, drive it from the next, close it from a third."""
    opened, answer = await per_call(env, "smooth_session_open", {"url": page})
    session = {"session_id": answer["session_id"]}
    moved, _ = await per_call(env, "smooth_session_goto", {**session, "url": page})
    closed, _ = await per_call(env, "smooth_session_close", session)
    return {
        "open: call answered": opened["call answered"],
        "goto: call answered": moved["call answered"],
        "goto: initialize": moved["initialize"],
        "goto: ended": moved["ended"],
        "close: call answered": closed["call answered"],
    }


def baseline_job(page: str, env: dict[str, str], tree: Path) -> Callable[[], Any]:
    """Ours as another checkout runs it (its own packages first on the path)."""
    baseline = {**env, "PYTHONPATH": str(tree.resolve())}
    return lambda: ours(page, baseline, cwd=tree)


def median_ms(runs: list[dict[str, float]], mark: str) -> float | None:
    values = [run[mark] for run in runs if mark in run]
    return statistics.median(values) * 1000 if values else None


def cell(value: float | None, width: int = 10) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.0f}"


def ratio(ours_ms: float | None, theirs_ms: float | None) -> str:
    return f"{ours_ms / theirs_ms:>8.2f}x" if ours_ms and theirs_ms else f"{'-':>9}"


def paired_ratio(first: list[dict[str, float]], second: list[dict[str, float]], mark: str) -> str:
    """The median of per-run ratios (runs alternate, so a pair shares the machine's mood)."""
    pairs = [a[mark] / b[mark] for a, b in zip(first, second, strict=False) if mark in a and mark in b]
    return f"{statistics.median(pairs):>8.2f}x" if pairs else f"{'-':>9}"


async def measure(args: argparse.Namespace) -> None:
    binary = None if args.skip_playwright_mcp else ensure_playwright_mcp(args.playwright_mcp_dir)
    port = free_port()
    site = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(DEMO_SITE),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = f"http://127.0.0.1:{port}/article.html"
    columns = ["ours", "shared warm", "playwright-mcp", "bare", "paused", "paused, no spare"]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in columns}
    runs["per call"] = []
    shared_cold: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="smooth-bench-startup-") as scratch:
            data_dir, workspace, shared_dir = (str(Path(scratch) / name) for name in ("data", "pw", "shared"))
            os.makedirs(workspace)
            env = our_env(data_dir, SMOOTH_LOCAL_SHARED_DIR=shared_dir)
            jobs: list[tuple[str, Callable[[], Any]]] = [("ours", lambda: ours(page, env)), ("bare", bare)]
            if args.pause:
                no_spare = {**env, "SMOOTH_LOCAL_SPARE_CONTEXT": "0"}
                jobs.append(("paused", lambda: ours(page, env, pause=args.pause)))
                jobs.append(("paused, no spare", lambda: ours(page, no_spare, pause=args.pause)))
            for tree in args.baseline_tree:
                jobs.append((tree.name, baseline_job(page, env, tree)))
                runs[tree.name] = []
                columns.insert(-2, tree.name)
            if binary is not None:
                jobs.append(("playwright-mcp", lambda: theirs(page, binary, workspace)))
            if not args.skip_shared:
                # The first process starts the shared server: its figures are the cold ones.
                shared_cold, _ = await per_call(env, "smooth_profile_list", {})
                jobs.append(("shared warm", lambda: ours(page, env, "--shared-browser")))
                jobs.append(("per call", lambda: shared_round(page, env)))
            for _, job in jobs:  # one unmeasured run each: files cached, npm resolved
                await job()
            for number in range(args.runs):
                for name, job in jobs if number % 2 == 0 else reversed(jobs):
                    runs[name].append(await job())
                print(f"run {number + 1}/{args.runs} done", file=sys.stderr, flush=True)
            if not args.skip_shared:
                stop_shared(shared_dir)
    finally:
        site.terminate()
        site.wait(10)
    report(runs, columns, shared_cold, args.runs)


def stop_shared(shared_dir: str) -> None:
    """End the shared server this bench started (its folder is the bench's own)."""
    from smooth_agents.shared_server import stop_shared as stop

    stop(Path(shared_dir))


MOMENTS = (
    "initialize",
    "tools/list",
    "tools/list, CPU",
    "local server ready",
    "Chromium ready",
    "first page",
    "first page, CPU (all processes)",
    "ended",
)


def report(
    runs: dict[str, list[dict[str, float]]], columns: list[str], shared_cold: dict[str, float], count: int
) -> None:
    print(f"\nStart-up over stdio, median ms from the spawn ({count} runs, interleaved)\n")
    shown = [name for name in columns if runs[name] and not name.startswith("paused")]
    ours_like = [name for name in shown if name not in ("playwright-mcp", "bare")]
    print(f"{'moment':<34}" + "".join(f"{name:>15}" for name in shown))
    for mark in MOMENTS:
        print(f"{mark:<34}" + "".join(f"{cell(median_ms(runs[name], mark), 15)}" for name in shown))
    theirs = runs["playwright-mcp"]
    print("\nagainst playwright-mcp (median of medians; median of per-run ratios)\n")
    for name in ours_like:
        if theirs:
            for mark in ("initialize", "first page", "first page, CPU (all processes)"):
                mine, their = median_ms(runs[name], mark), median_ms(theirs, mark)
                paired = paired_ratio(runs[name], theirs, mark)
                print(f"{name + ', ' + mark:<48}{ratio(mine, their)}{paired}")
    print("\nagainst the bare MCP server: tools/list, then the server's CPU time by then\n")
    for name in ours_like:
        for mark in ("tools/list", "tools/list, CPU"):
            if runs["bare"]:
                mine, base = median_ms(runs[name], mark), median_ms(runs["bare"], mark)
                paired = paired_ratio(runs[name], runs["bare"], mark)
                print(f"{name + ', ' + mark:<48}{ratio(mine, base)}{paired}")
    if runs["paused"]:
        print("\nThe first call after a pause (the browser started meanwhile), ms from the call\n")
        for name in ("paused", "paused, no spare"):
            print(f"{name:<44}{cell(median_ms(runs[name], 'first call, after the pause'))}")
    if runs["per call"]:
        print("\nA process per call with --shared-browser (spawn to the moment, ms)\n")
        for name, value in shared_cold.items():
            print(f"{'first process (cold), ' + name:<44}{value * 1000:>10.0f}")
        for mark in runs["per call"][0]:
            print(f"{'warm, ' + mark:<44}{cell(median_ms(runs['per call'], mark))}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-playwright-mcp", action="store_true")
    parser.add_argument("--skip-shared", action="store_true")
    parser.add_argument(
        "--pause",
        type=float,
        default=3.0,
        help="seconds between tools/list and a first call, with and without the spare context "
        "(0: not measured)",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        action="append",
        default=[],
        help="another checkout to measure the same way (repeatable; its column is named by its folder)",
    )
    parser.add_argument("--playwright-mcp-dir", type=Path, default=ROOT / ".cache" / "playwright-mcp")
    asyncio.run(measure(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
