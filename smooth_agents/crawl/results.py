"""What a crawl or a batch extraction gives for each page: ``PageResult``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PageResult:
    """One page of ``AsyncSmoothClient.crawl`` or ``extract_many``.

    ``url`` is where the page landed (normalised), ``requested_url`` what was asked for.
    ``markdown``: the page read as markdown (a crawl without a schema). ``data``: what was
    extracted with the schema (a dict, or an instance of the pydantic model given). ``error``
    says why this page failed (its HTTP status, a timeout, a redirect out of scope, data the page
    does not have); the other pages are not affected. ``depth`` counts links from the start page
    (None for ``extract_many``).
    """

    url: str
    requested_url: str
    ok: bool
    depth: int | None = None
    title: str | None = None
    markdown: str | None = None
    data: Any = None
    error: str | None = None
    status: int | None = None
