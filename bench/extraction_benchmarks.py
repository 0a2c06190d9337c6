"""The reader and the schema extraction on public benchmarks of real pages, next to their peers.

Reads the development halves in ``../shared/benchmarks`` (``--data`` to point elsewhere; without
them it says so and stops). Each benchmark is scored by its own scorer (``score.py`` there, run as
a program on the predictions written to a temporary folder), so the figures are the benchmark's.

- Articles: the reader's markdown (stripped to text by the scorer's ``--markdown``) next to
  trafilatura and readability-lxml on the same pages, when they are installed: precision, recall,
  F1, pages whose recall is under 0.5, median and slowest milliseconds per page.
- Products: ``extract_structured`` with the benchmark's schema: field accuracy per attribute (the
  scorer's table), the longest value returned for the short fields, median and slowest ms.

The reader is called directly on each page's HTML, as a task's page would hand it over; the local
server adds the browser (scripts run, offline) on top, measured separately.

Run: ``.venv/bin/python bench/extraction_benchmarks.py [--only article|product]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smooth_agents.local.extraction import ExtractionError, extract_structured  # noqa: E402
from smooth_agents.local.readable import page_to_markdown  # noqa: E402

SHORT_FIELDS = ("sku", "brand", "currency", "gtin", "mpn")


def pages(folder: Path, truth: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, url, html) of every page with ground truth."""
    found = []
    for page_id, expected in sorted(truth.items()):
        html = gzip.decompress((folder / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
        found.append((page_id, expected.get("url", ""), html))
    return found


def timed(
    convert: Callable[[str, str], Any], corpus: list[tuple[str, str, str]]
) -> tuple[dict[str, Any], list[float]]:
    outputs, millis = {}, []
    for page_id, url, html in corpus:
        started = time.perf_counter()
        outputs[page_id] = convert(html, url)
        millis.append((time.perf_counter() - started) * 1000)
    return outputs, millis


def score(scorer: Path, predictions: dict[str, Any], *flags: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.json"
        path.write_text(json.dumps(predictions), "utf-8")
        done = subprocess.run(
            [sys.executable, str(scorer), str(path), *flags],
            capture_output=True,
            text=True,
            check=True,
            cwd=scorer.parent,
        )
    return done.stdout


def article_systems() -> dict[str, tuple[Callable[[str, str], str], bool]]:
    """name -> (convert(html, url) -> text or markdown, output is markdown)."""
    systems: dict[str, tuple[Callable[[str, str], str], bool]] = {
        "smooth-agents reader": (lambda html, url: page_to_markdown(html, url), True),
    }
    try:
        import trafilatura

        systems["trafilatura"] = (lambda html, url: trafilatura.extract(html, url=url) or "", False)
    except ImportError:
        print("  (trafilatura not installed: skipped)")
    try:
        import html_text
        from readability import Document

        systems["readability-lxml + html-text"] = (
            lambda html, url: html_text.extract_text(Document(html).summary(html_partial=True)),
            False,
        )
    except ImportError:
        print("  (readability-lxml or html-text not installed: skipped)")
    return systems


def run_articles(data: Path) -> None:
    folder = data / "article"
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    corpus = pages(folder / "html", truth)
    print(f"Articles: {len(corpus)} pages ({folder})")
    columns = ("precision", 9), ("recall", 7), ("F1", 6), ("recall<0.5", 10), ("median ms", 9), ("max ms", 7)
    print(f"  {'system':32} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for name, (convert, markdown) in article_systems().items():
        outputs, millis = timed(convert, corpus)
        flags = ("--markdown",) if markdown else ()
        report = score(folder / "score.py", outputs, *flags, "--worst", str(len(corpus)))
        headline = report.splitlines()[0]
        figures = dict(re.findall(r"(precision|recall|F1) ([0-9.]+)", headline))
        low = sum(1 for line in report.splitlines()[1:] if float(line.split(" R ")[1].split()[0]) < 0.5)
        print(
            f"  {name:32} {figures.get('precision', '?'):>9} {figures.get('recall', '?'):>7} "
            f"{figures.get('F1', '?'):>6} {low:>10} {statistics.median(millis):>9.1f} {max(millis):>7.0f}"
        )


def run_products(data: Path) -> None:
    folder = data / "product"
    truth = json.loads((folder / "dataset" / "ground-truth.json").read_text("utf-8"))
    schema = json.loads((folder / "product_schema.json").read_text("utf-8"))
    corpus = pages(folder / "dataset" / "html", truth)
    print(f"Products: {len(corpus)} pages ({folder})")
    failed: list[str] = []

    def extract(html: str, url: str) -> dict[str, Any]:
        try:
            found = extract_structured(html, schema, url=url)
        except ExtractionError:
            return {}
        return found if isinstance(found, dict) else {}

    outputs, millis = timed(extract, corpus)
    failed = [page_id for page_id, found in outputs.items() if not found]
    print(score(folder / "score.py", outputs, "--raw").rstrip())
    longest = {
        field: max((len(str(found.get(field) or "")) for found in outputs.values()), default=0)
        for field in SHORT_FIELDS
    }
    print("  longest value: " + ", ".join(f"{field} {size}" for field, size in longest.items()))
    print(f"  pages with nothing extracted: {len(failed)}")
    print(f"  median {statistics.median(millis):.1f} ms per page, slowest {max(millis):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--only", choices=["article", "product"])
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"No benchmarks at {args.data}: nothing to measure (pass --data).")
        return
    if args.only in (None, "article"):
        run_articles(args.data)
    if args.only in (None, "product"):
        run_products(args.data)


if __name__ == "__main__":
    main()
