"""The crawl frontier: which URL is visited next, and which never are.

Pure bookkeeping, no I/O. Breadth-first by depth; within one depth, URLs take turns by the shape
of their path (``path_shape``), so that a trap that multiplies one kind of page (an endless
calendar, a faceted search) gets one turn in each round rather than the whole level. Each page
is visited once under its normalised URL; a visit that redirects is recorded where it lands.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal
from urllib.parse import urlsplit

from .urls import UrlGlobs, host_of, normalize_url

Source = Literal["start", "link", "sitemap"]
# Sitemap URLs enter as if the start page linked to them: depth 1.
SITEMAP_DEPTH = 1
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Visit:
    """A page to visit: its normalised URL, its depth (links from the start page), and how it
    was found."""

    url: str
    depth: int
    source: Source


class Landing(Enum):
    """Where a visit ended, as the frontier sees it."""

    SAME = "same"  # at the URL asked for
    NEW = "new"  # redirected to a page not visited yet: recorded there
    DUPLICATE = "duplicate"  # redirected to a page visited already: nothing new
    OUTSIDE = "outside"  # redirected out of the scope


class CrawlScope:
    """Which URLs a crawl may visit: its hosts (the start URL's unless ``same_host`` is off;
    ``hosts`` adds more) and its include/exclude globs."""

    def __init__(
        self,
        start_url: str,
        *,
        same_host: bool = True,
        hosts: Iterable[str] = (),
        globs: UrlGlobs | None = None,
    ) -> None:
        self.same_host = same_host
        self.hosts = {host_of(start_url), *(h.lower() for h in hosts)}
        self.globs = globs or UrlGlobs()

    def add_host(self, host: str) -> None:
        """Take ``host`` into the scope (a start URL that redirects to ``www.``: its landing host)."""
        self.hosts.add(host.lower())

    def host_allowed(self, url: str) -> bool:
        """Whether ``url`` is on a host of the crawl: what robots.txt, sitemaps and redirect hops
        are judged by."""
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        return not self.same_host or host_of(url) in self.hosts

    def allows(self, url: str) -> bool:
        """Whether the page at ``url`` belongs to the crawl: its host and the globs."""
        return self.host_allowed(url) and self.globs.allows(url)


def path_shape(url: str) -> str:
    """What URLs of one kind share: host, first path segment, number of segments, query names,
    with digits ignored (``/events?month=2031-05`` and ``/events?month=2031-06`` share one)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    first = _DIGITS.sub("#", segments[0]) if segments else ""
    names = sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p})
    return f"{parts.netloc}/{first}/{len(segments)}?{'&'.join(names)}"


class Frontier:
    """The URLs a crawl has found and the order it visits them in, within ``limit`` reported
    pages and ``max_depth`` (None: no bound; the start page is depth 0)."""

    def __init__(self, scope: CrawlScope, *, limit: int, max_depth: int | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if max_depth is not None and max_depth < 0:
            raise ValueError("max_depth must not be negative")
        self.scope = scope
        self.limit = limit
        self.max_depth = max_depth
        self.seen: set[str] = set()  # every URL queued or visited
        self.claimed: set[str] = set()  # every URL visited or being visited
        self.reported = 0
        self.in_flight = 0
        self.queued = 0
        # depth -> path shape -> URLs waiting; the shapes of one depth take turns.
        self._levels: dict[int, OrderedDict[str, deque[Visit]]] = {}

    def offer(self, url: str, depth: int, source: Source, *, base: str | None = None) -> str | None:
        """Queue ``url`` (resolved against ``base``) unless it is out of scope, too deep or known;
        the normalised URL when it was queued, else None. The start URL is judged by its host
        alone: include/exclude choose the pages found from it."""
        normal = normalize_url(url, base)
        if normal is None or normal in self.seen:
            return None
        if self.max_depth is not None and depth > self.max_depth:
            return None
        allowed = self.scope.host_allowed(normal) if source == "start" else self.scope.allows(normal)
        if not allowed:
            return None
        self.seen.add(normal)
        level = self._levels.setdefault(depth, OrderedDict())
        level.setdefault(path_shape(normal), deque()).append(Visit(normal, depth, source))
        self.queued += 1
        return normal

    @property
    def exhausted(self) -> bool:
        """Whether ``limit`` pages are reported or being visited: nothing more is handed out."""
        return self.reported + self.in_flight >= self.limit

    def next(self) -> Visit | None:
        """The next page to visit, or None when the limit is reached or nothing waits. The visit
        is then in flight until ``done``."""
        while not self.exhausted and self._levels:
            depth = min(self._levels)
            level = self._levels[depth]
            shape, waiting = next(iter(level.items()))
            visit = waiting.popleft()
            self.queued -= 1
            if waiting:
                level.move_to_end(shape)  # the next shape of this depth goes first
            else:
                del level[shape]
            if not level:
                del self._levels[depth]
            if visit.url in self.claimed:  # reached already through a redirect
                continue
            self.claimed.add(visit.url)
            self.in_flight += 1
            return visit
        return None

    def landed(self, visit: Visit, final_url: str) -> tuple[Landing, str]:
        """Record where ``visit`` ended (after redirects); returns how, and the normalised URL it
        is recorded under."""
        final = normalize_url(final_url) or visit.url
        if final == visit.url:
            return Landing.SAME, final
        if not self.scope.allows(final) and not (visit.source == "start" and self.scope.host_allowed(final)):
            return Landing.OUTSIDE, final
        if final in self.claimed:
            return Landing.DUPLICATE, final
        self.claimed.add(final)
        self.seen.add(final)
        return Landing.NEW, final

    def done(self, visit: Visit, *, reported: bool) -> None:
        """End a visit; ``reported``: it gave a page (visited, or failed as that page's result),
        which counts against the limit."""
        self.in_flight -= 1
        if reported:
            self.reported += 1
