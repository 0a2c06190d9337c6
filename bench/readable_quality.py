"""Compare HTML-to-markdown libraries on the demo-site fixture pages.

For each page and converter it prints:

* ``kept``   share of the main-content words found in the output (higher is better)
* ``noise``  share of the chrome words (nav, footer, sidebar, ads, forms) that leak (lower is better)
* ``table``  share of table rows whose cells all land on one output line (``-`` if the page has none)
* ``links``  share of main-content link targets kept
* ``chars``  output size, and ``ms`` the conversion time

Ground truth comes from the fixture markup itself: the content and chrome elements are
named by XPath below, so the figures follow the fixtures if they change.

Reading the figures: with the same lxml pre-clean, markdownify and html2text are equal on
these pages; without it both leak nearly all chrome. trafilatura needs no hand-written
cleaning but drops content the fixtures care about (listing ratings and review counts, the
article byline link). The reader first shipped markdownify (MIT; html2text is GPL-3.0), then
moved to html-to-markdown (MIT, Rust): the same GitHub-style tables with a separator row, about
ten times faster, which brought the reader under trafilatura's time per page on the article
benchmark (``bench/extraction_benchmarks.py``). Caveat: the pre-clean rules were written with
these pages at hand, so perfect scores here overstate how they do on unseen sites.

Run: ``python bench/readable_quality.py``. Installs nothing; a library that is not
installed is skipped with a note.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smooth_agents.reading.readable import clean_html, page_to_markdown  # noqa: E402

DEMO_SITE = ROOT / "smooth_agents" / "local" / "demo_site"
BASE_URL = "https://demo.example/"

# Per page: XPaths of the main content, and of the chrome around it.
PAGES: dict[str, tuple[list[str], list[str]]] = {
    "article.html": (
        ["//article/*[not(contains(concat(' ', @class, ' '), ' ad '))]"],
        ["//header", "//footer", "//aside", "//*[contains(@class, 'ad ')]", "//*[@id='cookie-banner']"],
    ),
    "product.html": (
        [
            "//h1",
            "//*[@itemprop='aggregateRating']",
            "//p[@class='price']",
            "//p[contains(@class, 'availability')]",
            "//p[@class='description']",
            "//table",
        ],
        ["//header", "//footer", "//form", "//*[@class='breadcrumb']"],
    ),
    "listing.html": (
        ["//h1", "//ul[@class='results']"],
        ["//header", "//footer", "//aside", "//ul[@class='pagination']"],
    ),
    "table.html": (
        ["//h1", "//table", "//body/p"],
        ["//nav", "//footer"],
    ),
}

WORD = re.compile(r"[\w%$.,]+")


@dataclass
class Scores:
    kept: float
    noise: float
    table: float | None
    links: float
    chars: int
    ms: float


def words(text: str) -> set[str]:
    return {w.strip(".,").lower() for w in WORD.findall(text) if len(w.strip(".,")) >= 3}


def texts(doc: lxml.html.HtmlElement, queries: list[str]) -> str:
    # itertext, not text_content: table cells must not run together into one word.
    return " ".join(" ".join(" ".join(el.itertext()).split()) for q in queries for el in doc.xpath(q))


def table_rows(doc: lxml.html.HtmlElement) -> list[list[str]]:
    rows = []
    for tr in doc.xpath("//main//table//tr | //body[not(.//main)]//table//tr"):
        cells = [" ".join(c.text_content().split()) for c in tr.xpath("./th|./td")]
        rows.append([c for c in cells if c])
    return rows


def content_links(doc: lxml.html.HtmlElement, queries: list[str]) -> list[str]:
    return [a.get("href", "") for q in queries for el in doc.xpath(q) for a in el.iter("a") if a.get("href")]


def score(html: str, output: str, elapsed: float, content_q: list[str], noise_q: list[str]) -> Scores:
    doc = lxml.html.document_fromstring(html)
    content = words(texts(doc, content_q))
    noise = words(texts(doc, noise_q)) - content  # words on both sides say nothing about leaks
    got = words(output)
    lines = output.splitlines()
    rows = table_rows(doc)
    rows_kept = sum(any(all(cell in line for cell in row) for line in lines) for row in rows)
    links = content_links(doc, content_q)
    links_kept = sum(href.split("/")[-1] in output for href in links)
    return Scores(
        kept=len(content & got) / max(len(content), 1),
        noise=len(noise & got) / max(len(noise), 1),
        table=rows_kept / len(rows) if rows else None,
        links=links_kept / len(links) if links else 1.0,
        chars=len(output),
        ms=elapsed * 1000,
    )


def converters() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {}
    found["the reader (shipped)"] = lambda html: page_to_markdown(html, BASE_URL)
    try:
        from markdownify import markdownify
    except ImportError:
        print("note: markdownify not installed, skipped")
    else:
        found["markdownify raw"] = lambda html: markdownify(
            html, heading_style="ATX", strip=["script", "style"]
        )
        found["markdownify+lxml clean"] = lambda html: markdownify(
            lxml.html.tostring(clean_html(html, BASE_URL), encoding="unicode"), heading_style="ATX"
        )
    try:
        import html2text
    except ImportError:
        print("note: html2text not installed, skipped")
    else:

        def h2t(html: str) -> str:
            converter = html2text.HTML2Text(baseurl=BASE_URL, bodywidth=0)
            converter.ignore_images = True
            return converter.handle(html)

        found["html2text raw"] = h2t
        found["html2text+lxml clean"] = lambda html: h2t(
            lxml.html.tostring(clean_html(html), encoding="unicode")
        )
    try:
        import trafilatura
    except ImportError:
        print("note: trafilatura not installed, skipped")
    else:
        found["trafilatura"] = lambda html: (
            trafilatura.extract(
                html, url=BASE_URL, output_format="markdown", include_tables=True, include_links=True
            )
            or ""
        )
    return found


def main() -> None:
    table: dict[str, dict[str, Scores]] = {}
    for name, convert in converters().items():
        for page, (content_q, noise_q) in PAGES.items():
            html = (DEMO_SITE / page).read_text(encoding="utf-8")
            start = time.perf_counter()
            output = convert(html)
            elapsed = time.perf_counter() - start
            table.setdefault(page, {})[name] = score(html, output, elapsed, content_q, noise_q)

    columns = ("kept", "noise", "table", "links", "chars", "ms")
    header = f"{'page':<13} {'converter':<28} " + " ".join(f"{c:>6}" for c in columns)
    print(header)
    print("-" * len(header))
    totals: dict[str, list[Scores]] = {}
    for page, results in table.items():
        for name, s in results.items():
            totals.setdefault(name, []).append(s)
            print(row(page, name, s.kept, s.noise, s.table, s.links, s.chars, s.ms))
        print()
    print("mean over pages")
    for name, scores in totals.items():
        tables = [s.table for s in scores if s.table is not None]
        print(
            row(
                "",
                name,
                mean(s.kept for s in scores),
                mean(s.noise for s in scores),
                mean(tables) if tables else None,
                mean(s.links for s in scores),
                mean(s.chars for s in scores),
                mean(s.ms for s in scores),
            )
        )


def row(page: str, name: str, *figures: float | None) -> str:
    *ratios, chars, ms = figures
    cells = ["-" if f is None else f"{f:.2f}" for f in ratios] + [f"{chars:.0f}", f"{ms:.1f}"]
    return f"{page:<13} {name:<28} " + " ".join(f"{c:>6}" for c in cells)


if __name__ == "__main__":
    main()
