"""What a click's answer shows, and what it costs: our step (``ElementActions.click`` then
``state()``, the page state the model agent is answered with) beside playwright-mcp's
(``browser_click``, whose answer carries its snapshot), on the same page, interleaved.

The page is the tests' ``settle/late.html`` (served on loopback by ``tests.helpers.SiteServer``, in
a process of its own): one button per case, each changing the page in its own time.

- no-op: a click that changes nothing (the cost of looking for what it started);
- at once: a change made by the click's handler itself;
- 300 ms timer: a change a timer makes 300 ms after the click;
- fetch, render: a fetch answered after 300 ms, then its text written into the page;
- navigation: a timer moves to another page, which fetches its data (200 ms) and shows it;
- never ends: an animation that changes the page on every frame (the cap must hold).

Sides, each a fresh load of the page then one click, per round in turn:
- ours, cap 1 s: what the model agent does (settle.py: wait for what the click started);
- ours, no settle: ``settle_cap=0``, which runs this module's code path from before the settle
  (the click, then a navigation's document only);
- playwright-mcp (pinned in bench/page_state.py) with its default settle (``--timeout-settle 500``)
  and with ``--timeout-settle 0``; its time includes the MCP stdio round trip (about 1 ms).

Figures: median and 90th percentile ms of the step (the click's call to the state back), and in
how many of the rounds the case's change was in that answer. Both browsers are the system Chromium,
headless, 1280x720.

Then real pages, which no one here wrote (``--real-pages`` of each benchmark in
``../shared/benchmarks``, served as bench/page_state.py serves them, other hosts refused): the
first link of the page state that a mouse can reach in the window is hovered, with the cap and
with no settle (each on a fresh load of the page, the order alternating), and the step timed
(hover, then the page state). Their own scripts run (timers, animations, carousels): how often
does an action that starts little still cost the cap there?

Usage: .venv/bin/python bench/action_settle.py [--rounds 10] [--real-pages 20] [--skip-playwright-mcp]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route, async_playwright

from smooth_agents.local.agents.elements import REF_ATTRIBUTE, ElementActions
from smooth_agents.local.errors import ActionFailed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' fixture site
from bench.page_state import (  # noqa: E402
    LOOPBACK,
    PLAYWRIGHT_MCP_VERSION,
    PageServer,
    ensure_playwright_mcp,
    open_page,
    real_pages,
    tool_text,
)

PAGE = "settle/late.html"
VIEWPORT = {"width": 1280, "height": 720}
CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Case:
    name: str
    button: str
    change: str | None  # text the answer should show (None: nothing changes)


CASES = [
    Case("no-op", "Change nothing", None),
    Case("at once", "Change now", "Changed at once"),
    Case("300 ms timer", "Change after 300 ms", "Changed 300 ms after the click"),
    Case("fetch, render", "Fetch then show", "Fetched: slow done"),
    Case("navigation", "Go to the next page", "The data arrived: slow done"),
    Case("never ends", "Animate forever", None),
]
# One step: the case, then (milliseconds, the answer's text).
Step = Callable[[Case], Awaitable[tuple[float, str]]]


def serve_site() -> None:
    """The fixture site in this process until stdin closes (the bench's ``--serve-site`` mode)."""
    from tests.helpers import SiteServer

    with SiteServer() as site:
        print(site.url(""), flush=True)
        sys.stdin.read()


def ref_in(text: str, button: str) -> str:
    found = re.search(rf'button "{re.escape(button)}" \[ref=([a-z0-9]+)\]', text)
    assert found, f"no button {button!r} in:\n{text[:2000]}"
    return found.group(1)


def our_step(page: Page, url: str, cap: float) -> Step:
    async def step(case: Case) -> tuple[float, str]:
        await page.goto(url)
        elements = ElementActions(page, settle_cap=cap)
        ref = ref_in((await elements.state()).outline, case.button)
        started = time.perf_counter()
        await elements.click(ref)
        answer = (await elements.state()).as_text()
        return (time.perf_counter() - started) * 1000, answer

    return step


def their_step(client: Any, url: str, workspace: Path) -> Step:
    async def step(case: Case) -> tuple[float, str]:
        await client.call_tool("browser_navigate", {"url": url})
        ref = ref_in(tool_text(await client.call_tool("browser_snapshot", {})), case.button)
        started = time.perf_counter()
        clicked = await client.call_tool("browser_click", {"element": case.button, "target": ref})
        millis = (time.perf_counter() - started) * 1000
        # Its answer names the file it wrote the snapshot to, in its working folder.
        text = tool_text(clicked)
        written = re.search(r"\[Snapshot\]\(\./([^)]+)\)", text)
        return millis, text + ((workspace / written.group(1)).read_text() if written else "")

    return step


async def run(rounds: int, base: str, binary: Path | None) -> dict[tuple[str, str], list[tuple[float, bool]]]:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    url = base + PAGE
    results: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        page = await (await browser.new_context(viewport=VIEWPORT)).new_page()  # type: ignore[arg-type]
        sides: dict[str, Step] = {
            "ours, cap 1 s": our_step(page, url, 1.0),
            "ours, no settle": our_step(page, url, 0.0),
        }
        with tempfile.TemporaryDirectory(prefix="playwright-mcp-") as workspace:
            clients = contextlib.AsyncExitStack()
            for settle in (500, 0) if binary else ():
                arguments = ["--executable-path", CHROMIUM, "--headless", "--no-sandbox", "--isolated"]
                arguments += ["--viewport-size", "1280x720", "--output-dir", workspace]
                arguments += ["--timeout-settle", str(settle)]
                server = StdioServerParameters(command=str(binary), args=arguments, cwd=workspace)
                client = await clients.enter_async_context(Client(server, read_timeout_seconds=120))
                sides[f"playwright-mcp, settle {settle} ms"] = their_step(client, url, Path(workspace))
            async with clients:
                for _ in range(rounds):
                    for case in CASES:
                        for side, step in sides.items():
                            millis, answer = await step(case)
                            shown = case.change is None or case.change in answer
                            results[(case.name, side)].append((millis, shown))
        await browser.close()
    return results


# The first of the shown links that a mouse can reach in the window (not covered, not off-screen).
_FIRST_LINK_IN_WINDOW_JS = """
([attr, refs]) => {
  for (const ref of refs) {
    const link = document.querySelector(`[${attr}="${ref}"]`);
    const box = link ? link.getBoundingClientRect() : null;
    if (!box || box.width < 1 || box.height < 1 || box.top < 0 || box.left < 0) continue;
    if (box.bottom > innerHeight || box.right > innerWidth) continue;
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (top && (top === link || link.contains(top))) return ref;
  }
  return null;
}
"""


async def hover_real_pages(count: int, data: Path) -> None:
    """Hover the first link of each real page, with the cap and without: step times, and the pages
    where the cap cut the wait."""
    pages = real_pages(data, count) if data.is_dir() else []
    if not pages:
        print(f"No benchmark pages at {data}: real pages skipped.")
        return

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    millis: dict[float, list[float]] = defaultdict(list)
    cut: list[str] = []
    with PageServer({f"{i}.html": html for _, i, html in pages}) as web:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            await context.route("**/*", only_loopback)
            page = await context.new_page()
            for index, (kind, name, _) in enumerate(pages):
                for cap in (1.0, 0.0) if index % 2 else (0.0, 1.0):
                    try:
                        await open_page(page, f"{web.base}{name}.html")
                        elements = ElementActions(page, timeout_ms=3_000, settle_cap=cap)
                        shown = re.findall(r"- link [^\n]*?\[ref=(e\d+)\]", (await elements.state()).outline)
                        link = await page.evaluate(_FIRST_LINK_IN_WINDOW_JS, [REF_ATTRIBUTE, shown])
                        if not link:
                            break
                        started = time.perf_counter()
                        await elements.hover(link)
                        state = await elements.state()
                        millis[cap].append((time.perf_counter() - started) * 1000)
                        if state.still_changing is not None:
                            cut.append(f"{kind}/{name[:10]}")
                    except (PlaywrightError, ActionFailed) as exc:
                        print(f"  {kind}/{name[:10]}: {str(exc).splitlines()[0][:80]}")
                        break
            await browser.close()
    print(f"\nReal pages: hover the first link, then the page state ({len(millis[1.0])} pages; ms):")
    for cap, label in ((1.0, "ours, cap 1 s"), (0.0, "ours, no settle")):
        values = sorted(millis[cap])
        if values:
            p90 = values[int(0.9 * (len(values) - 1))]
            print(f"  {label:<16} p50 {statistics.median(values):7.1f}  p90 {p90:7.1f}")
    print(f"  the cap cut the wait on {len(cut)} of {len(millis[1.0])} pages: {', '.join(cut) or '-'}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--skip-playwright-mcp", action="store_true")
    parser.add_argument("--real-pages", type=int, default=20, help="real pages of each benchmark (0: none)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--playwright-mcp-dir", type=Path, default=ROOT / ".cache" / "playwright-mcp")
    parser.add_argument("--serve-site", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_site:
        serve_site()
        return 0
    binary = None if options.skip_playwright_mcp else ensure_playwright_mcp(options.playwright_mcp_dir)
    site = subprocess.Popen(
        [sys.executable, __file__, "--serve-site"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert site.stdout is not None
        base = site.stdout.readline().strip()
        results = asyncio.run(run(options.rounds, base, binary))
    finally:
        assert site.stdin is not None
        site.stdin.close()
        site.wait(10)
    print(
        f"A click and the page state back, {options.rounds} rounds interleaved (ms: median, 90th percentile; "
        f"shown: the case's change in the answer). playwright-mcp @{PLAYWRIGHT_MCP_VERSION}.\n"
    )
    head = f"{'case':<14} {'side':<32} {'p50':>7} {'p90':>7}  shown"
    print(head)
    print("-" * len(head))
    for case in CASES:
        for (name, side), steps in results.items():
            if name != case.name:
                continue
            millis = sorted(m for m, _ in steps)
            p90 = millis[int(0.9 * (len(millis) - 1))]
            shown = f"{sum(s for _, s in steps)}/{len(steps)}" if case.change else "-"
            print(f"{case.name:<14} {side:<32} {statistics.median(millis):7.1f} {p90:7.1f}  {shown}")
    if options.real_pages:
        asyncio.run(hover_real_pages(options.real_pages, options.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
