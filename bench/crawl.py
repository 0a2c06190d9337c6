"""Crawl the generated shop (tests/crawl_site.py): our crawl beside crawl4ai's deep crawl.

Ours: ``AsyncSmoothClient().crawl(shop, limit=N)`` through the embedded local server (no API key:
real Chromium, pages read as markdown by the reader). Theirs: crawl4ai's ``BFSDeepCrawlStrategy``
(``max_pages=N``) over the system Chromium, which crawl4ai reaches at its CDP endpoint (it cannot
download its own browser here). Both on the same shop, served by this process on loopback.

Each run happens in a fresh worker process, the two systems taking turns (their order swapped
every round), so neither inherits the other's warm caches or memory. Printed per run: product
pages found (of 220), pages given, pages per second, wall time, and the peak memory of the
worker's process tree (the worker's Python process, holding the client and for ours the embedded
server, plus the browser's processes), each process counted by its proportional set size (PSS).
The page counts (100, 300, 1000: the endless events calendar fills the rest) show whether memory
grows with the pages.

Usage: .venv/bin/python bench/crawl.py [--pages 100 300 1000] [--rounds 1] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crawl_site import CrawlSite  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SAMPLE_SECONDS = 0.5


# -- memory --------------------------------------------------------------------------------------


def tree_pss() -> int:
    """PSS of this process and every process under it (the browser's included)."""
    me = psutil.Process()
    total = 0
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += process.memory_full_info().pss
    return total


class PeakMemory:
    """Samples ``tree_pss`` on a thread while a run goes on; ``peak`` is the largest sample."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss())
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_pss())


# -- the two systems (run in a worker process) ---------------------------------------------------


async def run_ours(start: str, pages: int, concurrency: int | None) -> list[tuple[str, bool]]:
    from smooth_agents import AsyncSmoothClient

    found: list[tuple[str, bool]] = []
    async with AsyncSmoothClient() as client:
        await client.warm_up()  # the browser starts before the clock, as crawl4ai's is already up
        async with contextlib.aclosing(client.crawl(start, limit=pages, concurrency=concurrency)) as crawl:
            started = time.perf_counter()
            async for page in crawl:
                found.append((page.url, page.ok and bool(page.markdown)))
            RESULT["seconds"] = time.perf_counter() - started
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def system_chromium() -> Any:
    """The system Chromium with a CDP endpoint, for crawl4ai; its endpoint URL."""
    port = free_port()
    profile = tempfile.mkdtemp(prefix="bench-crawl4ai-")
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            f"--remote-debugging-port={port}",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        browser.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            browser.wait(10)
        browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


async def run_crawl4ai(start: str, pages: int, concurrency: int | None) -> list[tuple[str, bool]]:
    from crawl4ai import AsyncWebCrawler, BrowserConfig, CacheMode, CrawlerRunConfig
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    found: list[tuple[str, bool]] = []
    with system_chromium() as cdp_url:
        browser = BrowserConfig(cdp_url=cdp_url, browser_mode="cdp", headless=True, verbose=False)
        strategy = BFSDeepCrawlStrategy(max_depth=10_000, max_pages=pages, include_external=False)
        config = CrawlerRunConfig(
            deep_crawl_strategy=strategy, cache_mode=CacheMode.BYPASS, stream=True, verbose=False
        )
        if concurrency is not None:
            config.semaphore_count = concurrency
        async with AsyncWebCrawler(config=browser) as crawler:
            started = time.perf_counter()
            async for result in await crawler.arun(start, config=config):
                found.append((result.url, bool(result.success and result.markdown)))
            RESULT["seconds"] = time.perf_counter() - started
    return found


RESULT: dict[str, Any] = {}


def worker(system: str, start: str, pages: int, concurrency: int | None) -> None:
    """One run in this (fresh) process; prints its figures as one JSON line."""
    run = run_ours if system == "ours" else run_crawl4ai
    with PeakMemory() as memory:
        wall = time.perf_counter()
        found = asyncio.run(run(start, pages, concurrency))
        wall = time.perf_counter() - wall
    RESULT.update(pages=len(found), ok=sum(ok for _, ok in found), urls=[url for url, ok in found if ok])
    RESULT.update(wall=wall, peak_pss=memory.peak)
    print("RESULT " + json.dumps(RESULT), flush=True)


# -- the driver ------------------------------------------------------------------------------------


def one_run(system: str, site: CrawlSite, pages: int, concurrency: int | None) -> dict[str, Any] | str:
    command = [sys.executable, __file__, "--worker", system, "--start", site.url("/"), "--pages", str(pages)]
    if concurrency is not None:
        command += ["--concurrency", str(concurrency)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, env={**os.environ})
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            figures: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            products = set(site.product_urls())
            figures["products"] = len({url for url in figures.pop("urls") if url.rstrip("/") in products})
            return figures
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return "failed: " + " | ".join(tail)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="pages at once (default: each system's)"
    )
    parser.add_argument("--systems", nargs="+", default=["ours", "crawl4ai"])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.start, args.pages[0], args.concurrency)
        return
    systems = list(args.systems)
    if "crawl4ai" in systems:
        try:
            import crawl4ai  # noqa: F401
        except ImportError:
            print("crawl4ai is not installed (pip install crawl4ai): ours alone.")
            systems.remove("crawl4ai")
        if not Path(CHROMIUM).exists():
            print(f"no system Chromium at {CHROMIUM} for crawl4ai: ours alone.")
            systems = [s for s in systems if s != "crawl4ai"]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    header = (
        f"{'round':>5} {'system':<9} {'limit':>6} {'pages':>6} {'products':>9} {'pages/s':>8} {'wall s':>7}"
    )
    print(header + f" {'peak PSS MiB':>13}")
    with CrawlSite() as site:
        for round_number in range(args.rounds):
            for pages in args.pages:
                order = systems if round_number % 2 == 0 else systems[::-1]
                for system in order:
                    figures = one_run(system, site, pages, args.concurrency)
                    if isinstance(figures, str):
                        print(f"{round_number:>5} {system:<9} {pages:>6} {figures}")
                        continue
                    rate = figures["ok"] / figures["seconds"] if figures["seconds"] else 0.0
                    print(
                        f"{round_number:>5} {system:<9} {pages:>6} {figures['ok']:>6} "
                        f"{figures['products']:>9} {rate:>8.2f} {figures['wall']:>7.1f} "
                        f"{figures['peak_pss'] / 2**20:>13.0f}",
                        flush=True,
                    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
