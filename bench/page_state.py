"""The size of our page state (``ElementActions(page).state()``) next to playwright-mcp's
``browser_snapshot`` on the same pages, and whether every visible interactive element gets a ref.

Pages: the tests' fixture shop (``tests/site/shop``, served on loopback by ``tests.helpers.SiteServer``)
and ``--pages`` real pages of each public extraction benchmark in ``../shared/benchmarks`` (articles
and products, the first N ids in sorted order; ``--data`` to point elsewhere, skipped when absent),
served from memory on 127.0.0.1 without their ``<base>`` tag. Both browsers are the system Chromium
(``/usr/bin/chromium``, ``--chromium`` to change), headless, 1280x720, with every request to a host
other than 127.0.0.1 refused at once (Playwright routing on our side, ``--allowed-origins`` on
theirs), and both wait alike: DOM content loaded, then ``load`` for at most 5 s.

- Ours: the page state at the default budget (8,000 characters; ``cut`` says whether the outline was
  cut) and with no budget (a budget of 10^9), ``len(state.as_text())`` each.
- Theirs: ``browser_navigate`` then ``browser_snapshot`` over MCP stdio; the snapshot's YAML alone
  and the whole text of the tool result.
- Refs: ours (``state.refs``, unbudgeted and at the default budget), theirs (every ``[ref=``, and
  those on interactive roles), and the page's visible interactive elements, counted by one query in
  the page (links with href, buttons, inputs but hidden ones, selects, textareas, the interactive
  ARIA roles, contenteditable; visible = a non-empty box and not hidden by CSS). An interactive
  element left without a ref by our unbudgeted state is listed with the likely reason.
- Reach in the first view (the window as the page left it once loaded, before any action of
  ours: at its top, or where the page's own script scrolled it, which is what our state shows and
  a model sees first): the visible
  interactive elements (the query above) whose box meets the window, and of those, the ones our
  page state at the default budget gives a ref, and the ones Playwright's AI snapshot
  (``page.aria_snapshot(mode="ai")``, what playwright-mcp's snapshot is made of) gives a ref,
  taken in the same browser on the same page: each of its refs whose box meets the window is
  resolved to its element (``page.get_by_ref``). Elements one side reaches and the other does
  not are listed.
- Time: median ms per state (ours) and per snapshot call (theirs, MCP round trip included), over
  ``--repeat`` calls on each page.

playwright-mcp (@playwright/mcp, pinned below) is installed on first use with
``npm install --prefix .cache/playwright-mcp @playwright/mcp@<version>`` (``.cache`` is gitignored;
``--playwright-mcp-dir`` to use another folder); without npm, or with ``--skip-playwright-mcp``,
only our side is measured.

Usage: .venv/bin/python bench/page_state.py [--pages 10] [--repeat 3] [--skip-playwright-mcp]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import http.server
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route, async_playwright

from smooth_agents.local.agents.elements import DEFAULT_STATE_BUDGET, REF_ATTRIBUTE, ElementActions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixture site
from bench.playwright_mcp import PLAYWRIGHT_MCP_VERSION, ensure_playwright_mcp
from tests.helpers import SiteServer

ROOT = Path(__file__).resolve().parents[1]

UNBUDGETED = 10**9
VIEWPORT = {"width": 1280, "height": 720}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BASE_TAG = re.compile(r"<base\b[^>]*>", re.IGNORECASE)
SHOP = ["shop/index.html", "shop/results.html?q=nimbus", "shop/results-2.html", "shop/item-3.html"]
# Roles of playwright-mcp's snapshot lines that a model acts on.
THEIR_INTERACTIVE = re.compile(
    r"^\s*- (link|button|textbox|searchbox|combobox|checkbox|radio|switch|slider|spinbutton|listbox|tab"
    r"|menuitem|menuitemcheckbox|menuitemradio|option|treeitem)\b[^\n]*\[ref=",
    re.MULTILINE,
)

# The page's visible interactive elements, which of them the refs shown in our last page state
# address (our refs are attributes on the elements), why the others got none, and the refs shown
# on anything else.
_INTERACTIVE_JS = """
([attr, shown_refs]) => {
  const given = new Set(shown_refs);
  const has = (el) => given.has(el.getAttribute(attr));
  const BASE = "a[href], button, input, select, textarea, [role=button], [role=link], [role=checkbox],"
    + " [role=radio], [role=textbox], [role=combobox], [role=tab], [role=menuitem]";
  const shown = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const interactive = (el) => {
    if (el.tagName === "INPUT" && (el.getAttribute("type") || "").toLowerCase() === "hidden") return false;
    if (el.matches(BASE)) return true;
    return el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable);
  };
  const kindOf = (el) => {
    const tag = el.tagName.toLowerCase(); const role = el.getAttribute("role");
    if (tag === "input") return "input[type=" + (el.getAttribute("type") || "text").toLowerCase() + "]";
    if (["button", "select", "textarea"].includes(tag)) return tag + (role ? "[role=" + role + "]" : "");
    if (tag === "a" && el.hasAttribute("href")) return "a[href]" + (role ? "[role=" + role + "]" : "");
    if (role && el.matches(BASE)) return tag + "[role=" + role + "]";
    return tag + "[contenteditable]";
  };
  const why = (el) => {
    for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
      const tag = a.tagName.toLowerCase();
      if (a !== el && has(a)) return "nested in a ref'd " + (a.getAttribute("role") || tag);
      if (a !== el && /^h[1-6]$/.test(tag)) return "inside a heading";
      if (a.getAttribute("aria-hidden") === "true") return "inside aria-hidden";
      if (a.hasAttribute("hidden")) return "inside [hidden] shown by CSS";
      if (a instanceof SVGElement && tag === "svg") return "inside svg";
      if (getComputedStyle(a).visibility === "hidden") return "under visibility:hidden";
      if (["noscript", "template"].includes(tag)) return "inside " + tag;
    }
    return "other";
  };
  const snippet = (el) => el.outerHTML.replace(/\\s+/g, " ").slice(0, 110);
  let total = 0; const missed = []; const counted = new Set();
  for (const el of document.querySelectorAll(BASE + ", [contenteditable]")) {
    if (!interactive(el) || !shown(el)) continue;
    total++; counted.add(el);
    if (has(el)) continue;
    const box = el.getBoundingClientRect();
    const away = box.right + scrollX <= 0 || box.bottom + scrollY <= 0
      || box.left + scrollX >= document.documentElement.scrollWidth;
    missed.push({ kind: kindOf(el), reason: why(el) + (away ? ", off-page" : ""), html: snippet(el) });
  }
  const extras = [];
  for (const el of document.querySelectorAll("[" + attr + "]")) {
    if (counted.has(el) || !has(el)) continue;
    const role = el.getAttribute("role");
    const label = role ? "[role=" + role + "]" : el.tagName.toLowerCase();
    extras.push(interactive(el) ? label + " not shown" : label);
  }
  return { total, missed, extras };
}
"""

# The visible interactive elements whose box meets the window (the page at its top), and which
# of them carry one of our shown refs, or one of Playwright's (marked by ``THEIR_MARK``).
THEIR_MARK = "data-bench-their-ref"
_FIRST_VIEW_JS = """
([attr, shown_refs, theirs]) => {
  const given = new Set(shown_refs);
  const BASE = "a[href], button, input, select, textarea, [role=button], [role=link], [role=checkbox],"
    + " [role=radio], [role=textbox], [role=combobox], [role=tab], [role=menuitem]";
  const inView = (box) => box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
    && box.top < innerHeight && box.left < innerWidth;
  const snippet = (el) => el.outerHTML.replace(/\\s+/g, " ").slice(0, 110);
  let total = 0, ours = 0, pw = 0; const onlyTheirs = [], onlyOurs = [];
  for (const el of document.querySelectorAll(BASE + ", [contenteditable]")) {
    if (el.tagName === "INPUT" && (el.getAttribute("type") || "").toLowerCase() === "hidden") continue;
    if (el.matches("[contenteditable]") && !el.matches(BASE) && !el.isContentEditable) continue;
    if (!el.checkVisibility({ visibilityProperty: true }) || !inView(el.getBoundingClientRect())) continue;
    total++;
    const mine = given.has(el.getAttribute(attr)); const their = el.hasAttribute(theirs);
    ours += mine ? 1 : 0; pw += their ? 1 : 0;
    if (their && !mine) onlyTheirs.push(snippet(el));
    if (mine && !their) onlyOurs.push(snippet(el));
  }
  return { total, ours, theirs: pw, onlyTheirs, onlyOurs };
}
"""
# Refs of Playwright's AI snapshot with the box they were drawn in (viewport coordinates).
_THEIR_BOX = re.compile(r"\[ref=((?:f\d+)?e\d+)\][^\n]*?\[box=(-?[\d.]+),(-?[\d.]+),([\d.]+),([\d.]+)\]")


@dataclass
class Figures:
    label: str
    group: str  # "shop" or "real"
    error: str = ""
    ours_default: int = 0
    ours_cut: bool = False
    ours_full: int = 0
    refs_default: int = 0
    refs_full: int = 0
    interactive: int = 0
    missed: list[dict[str, str]] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    outline: str = ""
    ms_default: float = 0.0
    ms_full: float = 0.0
    theirs_yaml: int | None = None
    theirs_text: int | None = None
    theirs_refs: int | None = None
    theirs_interactive: int | None = None
    ms_theirs: float | None = None
    their_error: str = ""
    # Reach in the first view: visible interactive elements there, ours and Playwright's refs.
    first_view: int = 0
    first_ours: int = 0
    first_theirs: int = 0
    first_only_theirs: list[str] = field(default_factory=list)
    first_only_ours: list[str] = field(default_factory=list)


class PageServer:
    """Pages held in memory, on a loopback port."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0].lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                """A browser that stops loading a page breaks the pipe: not news."""

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> PageServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()


def real_pages(data: Path, count: int) -> list[tuple[str, str, bytes]]:
    """(benchmark, id, html) of the first ``count`` pages of each benchmark, by id."""
    found = []
    for kind, folder in (
        ("article", data / "article" / "html"),
        ("product", data / "product" / "dataset" / "html"),
    ):
        for path in sorted(folder.glob("*.html.gz"))[:count]:
            html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
            found.append((kind, path.name.removesuffix(".html.gz"), BASE_TAG.sub("", html).encode("utf-8")))
    return found


async def open_page(page: Page, url: str) -> None:
    """As playwright-mcp's browser_navigate does: DOM content loaded, then ``load`` for at most 5 s."""
    await page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("load", timeout=5_000)


async def timed_state(actions: ElementActions, budget: int, repeat: int) -> tuple[Any, float]:
    millis = []
    for _ in range(repeat):
        started = time.perf_counter()
        state = await actions.state(budget)
        millis.append((time.perf_counter() - started) * 1000)
    return state, statistics.median(millis)


async def measure_ours(chromium: str, targets: list[tuple[Figures, str]], repeat: int) -> None:
    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        await context.route("**/*", only_loopback)
        page = await context.new_page()
        for figures, url in targets:
            try:
                await open_page(page, url)
                actions = ElementActions(page)
                state, figures.ms_default = await timed_state(actions, DEFAULT_STATE_BUDGET, repeat)
                figures.ours_default, figures.ours_cut = len(state.as_text()), state.cut
                default_outline = state.outline
                figures.refs_default = state.refs
                state, figures.ms_full = await timed_state(actions, UNBUDGETED, repeat)
                figures.ours_full, figures.refs_full, figures.outline = (
                    len(state.as_text()),
                    state.refs,
                    state.outline,
                )
                shown = re.findall(r"\[ref=(e\d+)\]", state.outline)
                found = await page.evaluate(_INTERACTIVE_JS, [REF_ATTRIBUTE, shown])
                figures.interactive, figures.missed, figures.extras = (
                    found["total"],
                    found["missed"],
                    found["extras"],
                )
                await measure_first_view(page, figures, default_outline)
            except PlaywrightError as exc:
                figures.error = str(exc).splitlines()[0][:80]
        await browser.close()


async def measure_first_view(page: Page, figures: Figures, outline: str) -> None:
    """Reach in the first view: ours from the page state at the default budget (``outline``),
    Playwright's from its AI snapshot taken now, in this page, in the same view (a page that
    scrolled itself on load is measured where it stands, as both states were taken there)."""
    snapshot = await page.aria_snapshot(mode="ai", boxes=True)
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    for ref, x, y, w, h in _THEIR_BOX.findall(snapshot):
        left, top, right, bottom = float(x), float(y), float(x) + float(w), float(y) + float(h)
        if right <= 0 or bottom <= 0 or left >= width or top >= height or not float(w) or not float(h):
            continue
        with contextlib.suppress(PlaywrightError):
            await page.get_by_ref(ref).evaluate("(el, [a, r]) => el.setAttribute(a, r)", [THEIR_MARK, ref])
    shown = re.findall(r"\[ref=(e\d+)\]", outline)
    found = await page.evaluate(_FIRST_VIEW_JS, [REF_ATTRIBUTE, shown, THEIR_MARK])
    figures.first_view, figures.first_ours, figures.first_theirs = (
        found["total"],
        found["ours"],
        found["theirs"],
    )
    figures.first_only_theirs, figures.first_only_ours = found["onlyTheirs"], found["onlyOurs"]


def tool_text(result: Any) -> str:
    return "\n".join(part.text for part in result.content if getattr(part, "type", "") == "text")


async def measure_theirs(
    binary: Path, chromium: str, targets: list[tuple[Figures, str]], repeat: int
) -> None:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    with tempfile.TemporaryDirectory(prefix="playwright-mcp-") as workspace:
        arguments = ["--executable-path", chromium, "--headless", "--no-sandbox", "--isolated"]
        arguments += ["--viewport-size", "1280x720", "--allowed-origins", "http://127.0.0.1:*"]
        arguments += ["--output-dir", workspace]
        # Its navigate answer writes the page's snapshot to a file in the working folder.
        server = StdioServerParameters(command=str(binary), args=arguments, cwd=workspace)
        async with Client(server, read_timeout_seconds=120) as client:
            for figures, url in targets:
                navigated = await client.call_tool("browser_navigate", {"url": url})
                if navigated.is_error:
                    figures.their_error = tool_text(navigated).splitlines()[0][:80]
                    continue
                millis = []
                text = ""
                for _ in range(repeat):
                    started = time.perf_counter()
                    text = tool_text(await client.call_tool("browser_snapshot", {}))
                    millis.append((time.perf_counter() - started) * 1000)
                found = re.search(r"```yaml\n(.*?)\n```", text, re.DOTALL)
                yaml = found.group(1) if found else ""
                figures.theirs_yaml, figures.theirs_text = len(yaml), len(text)
                figures.theirs_refs = yaml.count("[ref=")
                figures.theirs_interactive = len(THEIR_INTERACTIVE.findall(yaml))
                figures.ms_theirs = statistics.median(millis)


def ratio(ours: int, theirs: int | None) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


def cell(value: float | None, spec: str = "d") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Figures]) -> None:
    head = (
        f"{'page':<18} {'ours8k':>6} {'cut':>3} {'ours∞':>6} {'yaml':>6} {'text':>6} {'∞/yaml':>6} "
        f"{'8k/yaml':>7} | {'refs8k':>6} {'refs∞':>5} {'theirs':>6} {'th.int':>6} {'inter':>5} {'miss':>4} "
        f"| {'ms8k':>5} {'ms∞':>5} {'ms th':>5}"
    )
    print(head)
    print("-" * len(head))
    for f in rows:
        if f.error:
            print(f"{f.label:<18} failed: {f.error}")
            continue
        print(
            f"{f.label:<18} {f.ours_default:>6} {'yes' if f.ours_cut else 'no':>3} {f.ours_full:>6} "
            f"{cell(f.theirs_yaml):>6} {cell(f.theirs_text):>6} {ratio(f.ours_full, f.theirs_yaml):>6} "
            f"{ratio(f.ours_default, f.theirs_yaml):>7} | {f.refs_default:>6} {f.refs_full:>5} "
            f"{cell(f.theirs_refs):>6} {cell(f.theirs_interactive):>6} {f.interactive:>5} {len(f.missed):>4} "
            f"| {f.ms_default:>5.1f} {f.ms_full:>5.1f} {cell(f.ms_theirs, '5.1f'):>5}"
            + (f"  (theirs failed: {f.their_error})" if f.their_error else "")
        )


def print_summary(name: str, rows: list[Figures]) -> None:
    done = [f for f in rows if not f.error]
    if not done:
        return
    print(f"{name} ({len(done)} pages):")
    both = [f for f in done if f.theirs_yaml]
    if both:
        for which, size in (("unbudgeted", "ours_full"), ("default budget", "ours_default")):
            ratios = [getattr(f, size) / f.theirs_yaml for f in both if f.theirs_yaml]
            total = sum(getattr(f, size) for f in both) / sum(f.theirs_yaml or 0 for f in both)
            within = sum(1 for r in ratios if r <= 0.5)
            print(
                f"  ours {which:<14} / their YAML: median {statistics.median(ratios):.2f}, "
                f"total {total:.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}; "
                f"<= 0.50 on {within} of {len(ratios)}"
            )
        texts = [f.ours_full / f.theirs_text for f in both if f.theirs_text]
        print(f"  ours unbudgeted / their whole tool text: median {statistics.median(texts):.2f}")
        medians = statistics.median(f.ms_theirs or 0.0 for f in both)
        aim = sum(1 for f in both if f.ours_full <= 0.5 * (f.theirs_yaml or 0) and not f.missed)
        print(f"  aim (unbudgeted <= 50% of their YAML and nothing missed): met on {aim} of {len(both)}")
    else:
        medians = None
    cut = sum(1 for f in done if f.ours_cut)
    missed = sum(len(f.missed) for f in done)
    view = sum(f.first_view for f in done)
    print(
        f"  first view: {view} visible interactive elements; a ref in our state (default budget) "
        f"{sum(f.first_ours for f in done)}, in Playwright's AI snapshot {sum(f.first_theirs for f in done)}"
    )
    print(
        f"  cut at the default budget: {cut} of {len(done)}; visible interactive elements without a ref: "
        f"{missed} of {sum(f.interactive for f in done)} on {sum(1 for f in done if f.missed)} pages"
    )
    print(
        f"  median ms: ours state {statistics.median(f.ms_default for f in done):.1f} (default budget), "
        f"{statistics.median(f.ms_full for f in done):.1f} (unbudgeted); "
        f"theirs snapshot {cell(medians, '.1f')}"
    )


def print_composition(rows: list[Figures]) -> None:
    """Where our unbudgeted characters go, over the given pages."""
    parts: Counter[str] = Counter()
    for f in rows:
        for line in f.outline.splitlines():
            body = line.lstrip(" ")
            parts["indent"] += len(line) - len(body) + 1
            if "[ref=e" in body:
                head, arrow, target = body.partition("] -> ")
                parts["link targets ( -> href)"] += len(arrow) + len(target)
                parts["element lines"] += len(head) + (1 if arrow else 0)
            elif body.startswith("#"):
                parts["headings"] += len(body)
            else:
                parts["text lines"] += len(body)
    total = sum(parts.values()) or 1
    print("  our unbudgeted outline: " + ", ".join(f"{k} {v / total:.0%}" for k, v in parts.most_common()))


def print_first_view(rows: list[Figures]) -> None:
    """The first view's elements one side gives a ref and the other does not."""
    for label, attribute in (("Playwright's only", "first_only_theirs"), ("ours only", "first_only_ours")):
        samples = [(f.label, html) for f in rows for html in getattr(f, attribute)]
        print(f"first view, a ref {label}: {len(samples)}")
        for page_label, html in samples[:12]:
            print(f"    {page_label}: {html}")


def print_missed(rows: list[Figures]) -> None:
    reasons: Counter[str] = Counter()
    extras: Counter[str] = Counter()
    for f in rows:
        reasons.update(f"{m['kind']} ({m['reason']})" for m in f.missed)
        extras.update(f.extras)
    if reasons:
        print("visible interactive elements our state left without a ref, by kind (likely reason):")
        for kind, n in reasons.most_common(12):
            print(f"  {n:>4}  {kind}")
        print("  samples:")
        for f in rows:
            for m in f.missed[:2]:
                print(f"    {f.label}: {m['html']}")
    if extras:
        print(
            "our refs on elements not counted as visible interactive: "
            + ", ".join(f"{k} {n}" for k, n in extras.most_common(10))
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10, help="real pages of each benchmark")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per page")
    parser.add_argument("--skip-playwright-mcp", action="store_true")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--playwright-mcp-dir", type=Path, default=ROOT / ".cache" / "playwright-mcp")
    args = parser.parse_args()
    real = real_pages(args.data, args.pages) if args.data.is_dir() else []
    if not real:
        print(f"No benchmark pages at {args.data}: the fixture shop only.")
    binary = None if args.skip_playwright_mcp else ensure_playwright_mcp(args.playwright_mcp_dir)
    with SiteServer() as site, PageServer({f"{i}.html": html for _, i, html in real}) as web:
        targets = [
            (Figures(path.split("?")[0].removesuffix(".html"), "shop"), site.url(path)) for path in SHOP
        ]
        targets += [(Figures(f"{kind}/{i[:10]}", "real"), f"{web.base}{i}.html") for kind, i, _ in real]
        asyncio.run(measure_ours(args.chromium, targets, args.repeat))
        if binary:
            asyncio.run(measure_theirs(binary, args.chromium, targets, args.repeat))
    rows = [figures for figures, _ in targets]
    print(
        "Characters: ours8k = len(state.as_text()) at the default budget (cut = outline cut there), "
        "ours∞ = no budget; yaml / text = playwright-mcp"
    )
    print(
        f"@{PLAYWRIGHT_MCP_VERSION} browser_snapshot, its YAML / its whole tool text. Refs: ours (8k, ∞), "
        "theirs (all [ref=], th.int = on interactive roles), inter = visible interactive elements,"
    )
    print("miss = of those, without a ref in our unbudgeted state. ms = median per state / snapshot call.\n")
    print_table(rows)
    print()
    for name, group in (("fixture shop", "shop"), ("real pages", "real")):
        print_summary(name, [f for f in rows if f.group == group])
    for kind in ("article", "product"):
        print_summary(f"  of which {kind}s", [f for f in rows if f.label.startswith(kind)])
    print_composition([f for f in rows if f.group == "real" and not f.error])
    print()
    print_first_view([f for f in rows if not f.error])
    print_missed(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
