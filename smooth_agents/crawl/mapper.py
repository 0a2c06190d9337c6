"""Map a site: run the frontier over an injected way of reading a page's links, and give each
page as it is done.

The seam is ``links_of(url) -> PageLinks``: the runner passes one over browser sessions (the
links the rendered page shows), tests and benchmarks the static-HTML fallback
(``smooth_agents.crawl.static.StaticLinks``). robots.txt and sitemaps are read over plain HTTP
(``Fetcher``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .fetch import Fetcher
from .frontier import SITEMAP_DEPTH, CrawlScope, Frontier, Landing, Source, Visit
from .robots import ROBOTS_USER_AGENT, RobotsRules, load_robots
from .sitemaps import read_sitemaps
from .urls import UrlGlobs, host_of, normalize_url, origin_of


class PageLinks(NamedTuple):
    """What reading one page gave: the URL it ended at (after redirects), the links it shows
    (absolute, or relative to ``final_url``), and its HTTP status when known."""

    final_url: str
    links: Sequence[str]
    status: int | None = None


class PageError(Exception):
    """One page could not be read (a timeout, a refused redirect, a crashed tab): that page's
    failure, never the whole map's."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


LinksOf = Callable[[str], Awaitable[PageLinks]]


@dataclass(frozen=True)
class MapOptions:
    """The rules of one map.

    ``limit``: pages reported at most (failed ones included). ``max_depth``: links followed from
    the start page at most (None: no bound; sitemap URLs count as depth 1). ``include`` /
    ``exclude``: URL globs read as ``allowed_urls`` are (``**/products/**``). ``same_host``: stay on
    the start URL's host (and ``hosts``). ``respect_robots``: obey robots.txt (turning it off is
    the explicit opt-out). ``sitemaps``: seed the frontier from the sitemaps robots.txt names, or
    ``/sitemap.xml``. ``concurrency``: pages read at once.
    """

    limit: int = 100
    max_depth: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    same_host: bool = True
    hosts: tuple[str, ...] = ()
    respect_robots: bool = True
    sitemaps: bool = True
    concurrency: int = 4
    user_agent: str = ROBOTS_USER_AGENT
    max_sitemaps: int = 50

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        UrlGlobs.of(self.include, self.exclude)  # refuses empty patterns


@dataclass(frozen=True)
class MappedPage:
    """One page of the map. ``url`` is where it landed, normalised; ``requested_url`` what was
    asked for (they differ after a redirect). ``error`` says why the page failed (an HTTP error
    status, a timeout, a redirect out of scope); ``new_links`` counts the URLs it added."""

    url: str
    requested_url: str
    depth: int
    source: Source
    status: int | None = None
    error: str | None = None
    new_links: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class MapReport:
    """What a map did besides its pages, filled in as it runs."""

    robots: dict[str, str] = field(default_factory=dict)  # origin -> how its robots.txt was read
    disallowed: list[str] = field(default_factory=list)  # URLs robots.txt kept us from
    sitemaps_read: list[str] = field(default_factory=list)
    sitemaps_skipped: list[tuple[str, str]] = field(default_factory=list)
    sitemap_urls: int = 0
    redirects: dict[str, str] = field(default_factory=dict)  # requested -> landed
    merged: int = 0  # visits that landed on a page reported already
    left_queued: int = 0  # URLs found but not visited when the map ended
    stopped_at_limit: bool = False


class SiteMapper:
    """One map of one site. ``run(links_of)`` gives its pages as they are done; ``report`` and
    ``scope`` can be read meanwhile and after."""

    def __init__(
        self, start_url: str, options: MapOptions | None = None, *, fetcher: Fetcher | None = None
    ) -> None:
        self.options = options or MapOptions()
        start = normalize_url(start_url)
        if start is None:
            raise ValueError(f"cannot map {start_url!r}: only http and https URLs with a host")
        self.start_url = start
        self.scope = CrawlScope(
            start,
            same_host=self.options.same_host,
            hosts=self.options.hosts,
            globs=UrlGlobs.of(self.options.include, self.options.exclude),
        )
        self.frontier = Frontier(self.scope, limit=self.options.limit, max_depth=self.options.max_depth)
        self.report = MapReport()
        self._fetcher = fetcher
        self._robots: dict[str, RobotsRules] = {}

    async def run(self, links_of: LinksOf) -> AsyncIterator[MappedPage]:
        """The pages in the order they finish (breadth-first, ``concurrency`` at a time). Close
        the iterator (``contextlib.aclosing``) to stop early: visits in flight are cancelled."""
        fetcher = self._fetcher or Fetcher()
        running: dict[asyncio.Task[PageLinks], Visit] = {}
        try:
            self.frontier.offer(self.start_url, 0, "start")
            if self.options.sitemaps:
                await self._seed_from_sitemaps(fetcher)
            while True:
                while len(running) < self.options.concurrency:
                    visit = self.frontier.next()
                    if visit is None:
                        break
                    if not await self._robots_allow(fetcher, visit.url):
                        self.frontier.done(visit, reported=False)
                        self.report.disallowed.append(visit.url)
                        continue
                    running[asyncio.ensure_future(links_of(visit.url))] = visit
                if not running:
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in [t for t in running if t in finished]:  # in the order they started
                    page = self._settle(running.pop(task), task)
                    if page is not None:
                        yield page
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            self.report.left_queued = self.frontier.queued
            self.report.stopped_at_limit = self.frontier.exhausted
            if self._fetcher is None:
                await fetcher.aclose()

    async def _robots_for(self, fetcher: Fetcher, origin: str) -> RobotsRules:
        rules = self._robots.get(origin)
        if rules is None:
            rules = await load_robots(fetcher, origin, self.options.user_agent, allow=self.scope.host_allowed)
            self._robots[origin] = rules
            self.report.robots[origin] = rules.note
        return rules

    async def _robots_allow(self, fetcher: Fetcher, url: str) -> bool:
        if not self.options.respect_robots:
            return True
        return (await self._robots_for(fetcher, origin_of(url))).allows(url)

    async def _seed_from_sitemaps(self, fetcher: Fetcher) -> None:
        # robots.txt is read for its Sitemap lines even when its rules are not obeyed.
        origin = origin_of(self.start_url)
        roots = (await self._robots_for(fetcher, origin)).sitemaps or (f"{origin}/sitemap.xml",)
        found = await read_sitemaps(
            fetcher, roots, allow=self.scope.host_allowed, max_sitemaps=self.options.max_sitemaps
        )
        self.report.sitemaps_read = found.read
        self.report.sitemaps_skipped = found.skipped
        for url in found.urls:
            if self.frontier.offer(url, SITEMAP_DEPTH, "sitemap") is not None:
                self.report.sitemap_urls += 1

    def _settle(self, visit: Visit, task: asyncio.Task[PageLinks]) -> MappedPage | None:
        """Record a finished visit; the page to report, or None when it merged into another."""
        failure = asyncio.CancelledError("the visit was cancelled") if task.cancelled() else task.exception()
        if failure is not None and not isinstance(failure, Exception | asyncio.CancelledError):
            raise failure  # KeyboardInterrupt and the like end the map
        if failure is not None:
            self.frontier.done(visit, reported=True)
            if isinstance(failure, PageError):
                status, message = failure.status, str(failure)
            else:
                status, message = None, f"{type(failure).__name__}: {failure}"
            return MappedPage(visit.url, visit.url, visit.depth, visit.source, status, message)
        read = task.result()
        if visit.source == "start" and self.options.same_host:
            # A start URL that moves (example.com to www.example.com) takes its host along.
            landed_host = host_of(normalize_url(read.final_url) or visit.url)
            if landed_host:
                self.scope.add_host(landed_host)
        landing, url = self.frontier.landed(visit, read.final_url)
        if landing is Landing.DUPLICATE:
            self.frontier.done(visit, reported=False)
            self.report.merged += 1
            self.report.redirects[visit.url] = url
            return None
        self.frontier.done(visit, reported=True)
        if landing is Landing.OUTSIDE:
            error = f"redirected to {url}, outside the map's scope"
            return MappedPage(visit.url, visit.url, visit.depth, visit.source, read.status, error)
        if landing is Landing.NEW:
            self.report.redirects[visit.url] = url
        if read.status is not None and read.status >= 400:
            return MappedPage(url, visit.url, visit.depth, visit.source, read.status, f"HTTP {read.status}")
        added = sum(
            self.frontier.offer(link, visit.depth + 1, "link", base=read.final_url) is not None
            for link in read.links
        )
        return MappedPage(url, visit.url, visit.depth, visit.source, read.status, None, added)


def map_site(
    start_url: str, links_of: LinksOf, options: MapOptions | None = None, *, fetcher: Fetcher | None = None
) -> AsyncIterator[MappedPage]:
    """The pages of the site at ``start_url``, as they are done: ``SiteMapper(...).run(links_of)``
    when the report is not needed."""
    return SiteMapper(start_url, options, fetcher=fetcher).run(links_of)
