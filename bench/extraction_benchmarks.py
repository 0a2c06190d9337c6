"""The reader and the schema extraction on public benchmarks of real pages, next to their peers.

Reads the development halves in ``../shared/benchmarks`` (``--data`` to point elsewhere; without
them it says so and stops). Each benchmark is scored by its own scorer (``score.py`` there, run as
a program on the predictions written to a temporary folder), so the figures are the benchmark's.

- Articles: the reader's markdown (stripped to text by the scorer's ``--markdown``) next to
  trafilatura and readability-lxml on the same pages, when they are installed: precision, recall,
  F1, pages whose recall is under 0.5, median and slowest milliseconds per page. The systems take
  turns page by page in a rotating order (a noisy machine slows them alike), and each median is
  also given as a ratio to trafilatura's.
- Products: ``extract_structured`` with the benchmark's schema: field accuracy per attribute (the
  scorer's table), the longest value returned for the short fields, median and slowest ms.

The reader is called directly on each page's HTML, as a task's page would hand it over. With
``--through-server`` the pages are also read the way the benchmark measures the project: one
task per page on the local server (real Chromium, scripts running, no internet), the page served
on 127.0.0.1 without its ``<base>`` tag, no other host allowed; the task's markdown is scored for
articles, its object (``response_model`` = the benchmark's schema) for products; a failed task
scores as empty.

Run: ``.venv/bin/python bench/extraction_benchmarks.py [--only article|product] [--through-server]``
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
from smooth_agents.reading.readable import page_to_markdown  # noqa: E402

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


def article_corpus(data: Path) -> tuple[Path, list[tuple[str, str, str]]]:
    folder = data / "article"
    truth = json.loads((folder / "ground-truth.json").read_text("utf-8"))
    return folder, pages(folder / "html", truth)


def under_half_recall(report: str) -> int:
    """Pages whose recall is under 0.5, from the scorer's ``--worst`` listing."""
    return sum(1 for line in report.splitlines()[1:] if float(line.split(" R ")[1].split()[0]) < 0.5)


def run_articles(data: Path) -> None:
    folder, corpus = article_corpus(data)
    print(f"Articles: {len(corpus)} pages ({folder})")
    columns = ("precision", 9), ("recall", 7), ("F1", 6), ("recall<0.5", 10), ("median ms", 9), ("max ms", 7)
    print(f"  {'system':32} " + " ".join(f"{name:>{width}}" for name, width in columns))
    systems = article_systems()
    outputs_of: dict[str, dict[str, Any]] = {name: {} for name in systems}
    millis_of: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    for index, page in enumerate(corpus):
        # Interleaved: each page read by every system in turn, the order rotating from page to
        # page (whoever reads a page second finds it warm in the caches).
        for name in names[index % len(names) :] + names[: index % len(names)]:
            outputs, millis = timed(systems[name][0], [page])
            outputs_of[name].update(outputs)
            millis_of[name].extend(millis)
    reference = statistics.median(millis_of["trafilatura"]) if "trafilatura" in millis_of else None
    for name, (_, markdown) in systems.items():
        outputs, millis = outputs_of[name], millis_of[name]
        flags = ("--markdown",) if markdown else ()
        report = score(folder / "score.py", outputs, *flags, "--worst", str(len(corpus)))
        headline = report.splitlines()[0]
        figures = dict(re.findall(r"(precision|recall|F1) ([0-9.]+)", headline))
        low = under_half_recall(report)
        print(
            f"  {name:32} {figures.get('precision', '?'):>9} {figures.get('recall', '?'):>7} "
            f"{figures.get('F1', '?'):>6} {low:>10} {statistics.median(millis):>9.1f} {max(millis):>7.0f}"
            + (f"  ({statistics.median(millis) / reference:.2f}x trafilatura)" if reference else "")
        )


BASE_TAG = re.compile(r"<base\b[^>]*>", re.IGNORECASE)


def through_server(
    corpus: list[tuple[str, str, str]], **task_options: Any
) -> tuple[dict[str, Any], list[float], int]:
    """Each page read by a task of the local server: (output per page, seconds per page, failed).

    ``task_options`` go to every task (``response_model`` for the products); a failed task's
    output is None.
    """
    import asyncio
    import http.server
    import threading

    from smooth_agents import AsyncSmoothClient, SmoothError
    from smooth_agents.local import LocalServerSettings, ThreadedServer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for page_id, _, html in corpus:
            (folder / f"{page_id}.html").write_text(BASE_TAG.sub("", html), "utf-8")

        class Pages(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(folder), **kwargs)

            def guess_type(self, path: Any) -> str:
                return "text/html; charset=utf-8"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                """A browser that stops loading a page breaks the pipe: not news."""

        web = Server(("127.0.0.1", 0), Pages)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        site = f"http://127.0.0.1:{web.server_address[1]}/"
        settings = LocalServerSettings(api_keys=frozenset({"bench-key"}), port=0, data_dir=folder / "data")

        async def read_all() -> tuple[dict[str, Any], list[float], int]:
            outputs: dict[str, Any] = {}
            seconds: list[float] = []
            failed = 0
            async with AsyncSmoothClient(api_key="bench-key", base_url=local.base_url) as client:
                for page_id, _, _ in corpus:
                    url = f"{site}{page_id}.html"
                    started = time.perf_counter()
                    try:
                        handle = await client.run(
                            "Read the page", url=url, allowed_urls=[site + "**"], **task_options
                        )
                        result = await handle.result(timeout=120)
                        outputs[page_id] = result.output
                    except SmoothError as exc:
                        failed += 1
                        outputs[page_id] = None
                        print(f"    {page_id[:12]} failed: {str(exc)[:100]}")
                    seconds.append(time.perf_counter() - started)
            return outputs, seconds, failed

        with ThreadedServer(settings) as local:
            found = asyncio.run(read_all())
        web.shutdown()
    return found


def run_articles_through_server(data: Path) -> None:
    folder, corpus = article_corpus(data)
    print(f"Articles through the local server: {len(corpus)} pages")
    outputs, seconds, failed = through_server(corpus)
    markdown = {page_id: str(output or "") for page_id, output in outputs.items()}
    report = score(folder / "score.py", markdown, "--markdown", "--worst", str(len(corpus)))
    low = under_half_recall(report)
    print(f"  {report.splitlines()[0]}")
    median = statistics.median(seconds)
    print(f"  pages under recall 0.5: {low}; failed tasks: {failed}; median {median:.2f} s a page")


def product_corpus(data: Path) -> tuple[Path, dict[str, Any], list[tuple[str, str, str]]]:
    folder = data / "product"
    truth = json.loads((folder / "dataset" / "ground-truth.json").read_text("utf-8"))
    schema = json.loads((folder / "product_schema.json").read_text("utf-8"))
    return folder, schema, pages(folder / "dataset" / "html", truth)


def print_product_report(folder: Path, outputs: dict[str, Any]) -> None:
    print(score(folder / "score.py", outputs, "--raw").rstrip())
    longest = {
        field: max((len(str(found.get(field) or "")) for found in outputs.values()), default=0)
        for field in SHORT_FIELDS
    }
    print("  longest value: " + ", ".join(f"{field} {size}" for field, size in longest.items()))


def run_products(data: Path) -> None:
    folder, schema, corpus = product_corpus(data)
    print(f"Products: {len(corpus)} pages ({folder})")

    def extract(html: str, url: str) -> dict[str, Any]:
        try:
            found = extract_structured(html, schema, url=url)
        except ExtractionError:
            return {}
        return found if isinstance(found, dict) else {}

    outputs, millis = timed(extract, corpus)
    print_product_report(folder, outputs)
    print(f"  pages with nothing extracted: {sum(1 for found in outputs.values() if not found)}")
    print(f"  median {statistics.median(millis):.1f} ms per page, slowest {max(millis):.0f} ms")


def run_products_through_server(data: Path) -> None:
    folder, schema, corpus = product_corpus(data)
    print(f"Products through the local server: {len(corpus)} pages")
    outputs, seconds, failed = through_server(corpus, response_model=schema)
    print_product_report(folder, {page_id: found or {} for page_id, found in outputs.items()})
    print(f"  failed tasks: {failed}; median {statistics.median(seconds):.2f} s a page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--only", choices=["article", "product"])
    parser.add_argument("--through-server", action="store_true", help="also read the pages through tasks")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"No benchmarks at {args.data}: nothing to measure (pass --data).")
        return
    if args.only in (None, "article"):
        run_articles(args.data)
        if args.through_server:
            run_articles_through_server(args.data)
    if args.only in (None, "product"):
        run_products(args.data)
        if args.through_server:
            run_products_through_server(args.data)


if __name__ == "__main__":
    main()
