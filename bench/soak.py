"""Soak: many session cycles and concurrent sessions, a hostile page among them; resources before
and after.

1. N cycles of open -> goto -> evaluate_js -> close on one local server (default 1,000).
2. 16 concurrent sessions, each doing 5 cycles of goto + evaluate_js; one in four on a hostile
   page (a runaway script, thirty popups, a redirect to a host outside allowed_urls, a WebSocket
   to it, a Date and a RegExp as results).
Printed: errors, time, and RSS and open file descriptors of this process (server and client),
the Playwright driver and Chromium, before and after, side by side.

Usage: .venv/bin/python bench/soak.py [--cycles 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.server
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from smooth_agents import AsyncSmoothClient, SmoothError
from smooth_agents.local import LocalServerSettings, ThreadedServer

KEY = "sk-bench-soak"
HOSTILE = """<html><head><title>hostile</title></head><body>
<script>
for (let i = 0; i < 30; i++) window.open('about:blank');
try { new WebSocket('ws://127.0.0.1:OUTSIDE/x'); } catch (e) {}
</script></body></html>"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""


def serve_folder(folder: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def resources() -> dict[str, tuple[float, int]]:
    """(RSS MiB, open fds) of this process, the Playwright driver, and Chromium."""
    me = psutil.Process()
    groups: dict[str, list[psutil.Process]] = {"server+client": [me], "driver": [], "chromium": []}
    for child in me.children(recursive=True):
        try:
            name = child.name() + " " + " ".join(child.cmdline()[:2])
        except psutil.Error:
            continue
        groups["chromium" if "chrom" in name else "driver"].append(child)
    figures = {}
    for group, processes in groups.items():
        rss, fds = 0, 0
        for process in processes:
            try:
                rss += process.memory_info().rss
                fds += process.num_fds()
            except psutil.Error:
                continue
        figures[group] = (rss / 2**20, fds)
    return figures


async def cycle(client: AsyncSmoothClient, url: str, allowed: list[str] | None = None) -> None:
    async with client.session(allowed_urls=allowed) as session:
        await session.goto(url)
        await session.evaluate_js("document.title")


async def hostile_cycle(client: AsyncSmoothClient, site: str, outside: int) -> None:
    allowed = [site + "**"]
    async with client.session(allowed_urls=allowed) as session:
        await session.goto(site + "hostile.html")
        for script in ("new Date(0)", "/x/g", "while (true) {}"):
            # The runaway script is stopped with an error, as it should be.
            with contextlib.suppress(SmoothError):
                await session.evaluate_js(script)
        with contextlib.suppress(SmoothError):  # blocked, as it should be
            await session.goto(f"http://127.0.0.1:{outside}/stolen")
        await session.goto(site + "page.html")
        await session.evaluate_js("1 + 1")


async def main(cycles: int) -> None:
    outside = socket.create_server(("127.0.0.1", 0))
    outside_port = outside.getsockname()[1]
    outside.settimeout(0.01)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "page.html").write_text("<html><head><title>ok</title></head><body>ok</body></html>")
        (folder / "hostile.html").write_text(HOSTILE.replace("OUTSIDE", str(outside_port)))
        site, web = serve_folder(folder)
        settings = LocalServerSettings(
            api_keys=frozenset({KEY}), port=0, data_dir=folder / "data", action_timeout=10.0
        )
        with ThreadedServer(settings) as local:
            async with AsyncSmoothClient(api_key=KEY, base_url=local.base_url) as client:
                await cycle(client, site + "page.html")  # warm the browser
                before = resources()
                started, errors = time.perf_counter(), 0
                for _ in range(cycles):
                    try:
                        await cycle(client, site + "page.html")
                    except SmoothError:
                        errors += 1
                sequential = time.perf_counter() - started
                after_cycles = resources()

                reasons: dict[str, int] = {}

                async def worker(index: int) -> int:
                    failed = 0
                    for _ in range(5):
                        try:
                            if index % 4 == 0:
                                await hostile_cycle(client, site, outside_port)
                            else:
                                await cycle(client, site + "page.html")
                        except SmoothError as exc:
                            failed += 1
                            reason = str(exc)[:100]
                            reasons[reason] = reasons.get(reason, 0) + 1
                    return failed

                started = time.perf_counter()
                concurrent_errors = sum(await asyncio.gather(*(worker(i) for i in range(16))))
                concurrent = time.perf_counter() - started
                await asyncio.sleep(1)
                after = resources()
        web.shutdown()
    hits = 0
    while True:
        try:
            outside.accept()[0].close()
            hits += 1
        except OSError:
            break
    outside.close()
    print(f"1. {cycles} open/goto/evaluate/close cycles: {sequential:.1f} s, {errors} errors")
    print(
        f"2. 16 concurrent sessions x 5 cycles (4 on a hostile page): {concurrent:.1f} s, "
        f"{concurrent_errors} errors"
    )
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"   {count} x {reason}")
    print(f"   the outside host was reached {hits} times")
    print("3. resources: RSS MiB / open fds   before | after the cycles | after the concurrent run")
    for group in before:
        row = " | ".join(f"{d[group][0]:7.1f} / {d[group][1]:4d}" for d in (before, after_cycles, after))
        print(f"   {group:<14} {row}")
    print(f"   (pid {os.getpid()})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=1000)
    asyncio.run(main(parser.parse_args().cycles))
