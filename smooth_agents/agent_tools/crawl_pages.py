"""How each page of a map, a crawl or a batch of pages reads for a model.

A map or a crawl reads as one text that only grows: each page adds its own block when it
finishes, so a part read while the job still runs is a prefix of the whole, and reading on by
index never skips or repeats a page. A page's failure is that page's block (or entry), never the
whole job's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cutting import CUT_MARK, compact_json

if TYPE_CHECKING:
    from ..crawl import MappedPage
    from ..crawl.results import PageResult

# A page title is the page's own words: kept to one short line in the header naming the page.
_TITLE_ROOM = 160


@dataclass(frozen=True)
class PageRead:
    """One finished page as a job keeps it: the text it adds, and what a batch lists for it."""

    url: str
    requested_url: str
    ok: bool
    text: str
    entry: dict[str, Any]


def _one_line(text: str, room: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= room else line[: room - 1] + CUT_MARK


def _failure(error: str | None, status: int | None) -> str:
    if error:
        return _one_line(error, 300)
    return f"HTTP {status}" if status else "the page could not be read"


def _outcome(page: PageResult) -> dict[str, Any]:
    """What a page gave: its data, or why it has none (with the HTTP status where it says more)."""
    if page.ok:
        # Read, but from an error page: its data is likely not what was asked for.
        erroneous = page.status is not None and page.status >= 400
        return {"data": page.data, **({"status": page.status} if erroneous else {})}
    failed: dict[str, Any] = {"error": _failure(page.error, page.status)}
    if page.status is not None:
        failed["status"] = page.status
    return failed


def _entry(page: PageResult) -> dict[str, Any]:
    """A page as a batch lists it: the URL it was given as, where it landed if elsewhere, then
    what it gave."""
    entry: dict[str, Any] = {"url": page.requested_url}
    if page.url and page.url != page.requested_url:
        entry["landed_url"] = page.url
    return {**entry, **_outcome(page)}


def mapped(page: MappedPage) -> PageRead:
    """A map's line: the page's URL, where it was asked for under another, or why it failed."""
    line = page.url
    if page.requested_url != page.url:
        line += f" (from {page.requested_url})"
    if not page.ok:
        line += f" (failed: {_failure(page.error, page.status)})"
    entry: dict[str, Any] = {"url": page.url}
    return PageRead(page.url, page.requested_url, page.ok, line + "\n", entry)


def crawled_markdown(number: int, page: PageResult) -> PageRead:
    """A crawl's page read as markdown: a header line naming it, then the page itself."""
    if page.ok:
        title = f" · {_one_line(page.title, _TITLE_ROOM)}" if page.title else ""
        header = f"=== Page {number}: {page.url}{title} ==="
        body = (page.markdown or "").strip("\n")
        text = f"{header}\n{body}\n\n" if body else f"{header}\n(no text)\n\n"
    else:
        failure = _failure(page.error, page.status)
        text = f"=== Page {number}: {page.requested_url} · failed: {failure} ===\n\n"
    return PageRead(page.url, page.requested_url, page.ok, text, _entry(page))


def crawled_data(page: PageResult) -> PageRead:
    """A crawl's page read with a schema: one line of JSON (its URL and data, or its error)."""
    line = compact_json({"url": page.url or page.requested_url, **_outcome(page)})
    return PageRead(page.url, page.requested_url, page.ok, line + "\n", _entry(page))


def in_given_order(reads: list[PageRead], urls: list[str]) -> list[dict[str, Any]]:
    """A batch's entries in the order its URLs were given (pages finish in any order)."""
    place = {url: index for index, url in reversed(list(enumerate(urls)))}
    ordered = sorted(reads, key=lambda read: place.get(read.requested_url, len(urls)))
    return [read.entry for read in ordered]
