"""Many pages through the client's browser sessions: the map, the crawl and the batch extraction
behind ``AsyncSmoothClient.map``, ``crawl`` and ``extract_many``.

Only the public session API is used (goto, evaluate_js, extract, close), so the same code runs on
the embedded local server, a ``local serve`` and the Smooth cloud. A ``SessionPool`` holds at most
``concurrency`` sessions, each reused page after page (one browser context for many pages); a page
costs one ``goto`` and one ``evaluate_js`` that brings back, in one answer, where the page ended,
its title, the links it shows and, when the page is to be read, its HTML. With a schema the
server's ``extract`` reads the page as ``smooth_extract`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from ..cancellation import wait_for_end
from ..errors import ActionError, APIError, SessionClosedError, SmoothError
from ..handles import schema_of
from ..reading import INSTALL_HINT, reader_missing
from .mapper import MapOptions, MappedPage, PageError, PageLinks, SiteMapper
from .results import PageResult
from .urls import normalize_url

if TYPE_CHECKING:
    from ..client import AsyncSmoothClient
    from ..session import AsyncSession

T = TypeVar("T")

# Sessions a crawl uses unless told: one per core, at most four. Measured with bench/crawl.py
# (300 pages of the shop through the embedded server, 2 cores, quiet machine): 1 session 11.0
# pages/s and 658 MiB, 2 sessions 9.3 and 755 MiB, 4 sessions 9.5 and 957 MiB. On loopback the
# CPU is the bound (browser, server and reader share it) and more sessions only cost memory; on
# real sites each page waits on the network, which sessions in parallel overlap.
DEFAULT_MAX_CONCURRENCY = 4


def default_concurrency() -> int:
    """Sessions a crawl uses unless told: one per core, at most ``DEFAULT_MAX_CONCURRENCY``."""
    return max(1, min(DEFAULT_MAX_CONCURRENCY, os.cpu_count() or 1))


# A session is closed and replaced after this many pages, or once the answers it gave weigh this
# many characters: a server keeps each session's answers (its event log) while the session lives,
# and a browser context gathers history, cache and its renderers' heaps. Measured on the shop
# (bench/crawl.py): after 150 pages the renderers held 494 MiB with 100 pages a session and
# 358 MiB with 25 (275 MiB after 300 pages), for one session opened per 25 pages (~0.4 s).
PAGES_PER_SESSION = 25
CHARS_PER_SESSION = 16_000_000
# How long closing the sessions may take when the work stops.
CLOSE_BOUND_SECONDS = 30.0

# One round trip per page: where it ended, its title, the http(s) links it shows (resolved by
# the browser, in document order, once each) and, when asked, its HTML without what no reader
# uses (scripts other than JSON-LD data, styles): the answer is kept by the server with the
# session's events, so it is kept small.
PAGE_SCRIPT = """(options) => {
  const links = [];
  const seen = new Set();
  for (const anchor of document.querySelectorAll('a[href], area[href]')) {
    const href = anchor.href;
    if (typeof href === 'string' && /^https?:/i.test(href) && !seen.has(href)) {
      seen.add(href);
      links.push(href);
    }
  }
  let html = null;
  if (options && options.html && document.documentElement) {
    const copy = document.documentElement.cloneNode(true);
    const unread = 'script:not([type="application/ld+json"]), style, noscript, template, '
      + 'link[rel~="stylesheet"]';
    for (const element of copy.querySelectorAll(unread)) element.remove();
    html = copy.outerHTML;
  }
  return {url: location.href, title: document.title, links: links, html: html};
}"""


def object_schema(schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of ``schema``, checked, which must describe one object per page."""
    resolved = schema_of(schema)
    if resolved is None:
        raise ValueError("a schema is required")
    if resolved.get("type") != "object" and "properties" not in resolved:
        raise ValueError(
            'the schema must describe an object ("type": "object" with its properties): each page '
            "gives one such object; to collect a list from one page, make it a property of the object"
        )
    return resolved


def check_reader() -> None:
    """Refuse up front a crawl that reads pages as markdown when the reader is not installed."""
    missing = reader_missing()
    if missing:
        raise SmoothError(
            f"Reading pages as markdown needs {', '.join(missing)} (the local extra): "
            f"{INSTALL_HINT}; or give a schema (response_model) to extract data instead."
        )


def check_concurrency(concurrency: int | None) -> int:
    if concurrency is None:
        return default_concurrency()
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    return concurrency


def scope_patterns(start_url: str) -> list[str]:
    """``allowed_urls`` keeping a session's browser on the start URL's site: its host and port
    (any scheme), and for a named host its subdomains and its bare domain (``www.`` dropped), so
    a start page that moves to ``www.`` still loads. A redirect anywhere else is refused by the
    browser before a request leaves it."""
    parts = urlsplit(start_url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    if host.replace(".", "").isdigit() or ":" in host:  # an IP address has no subdomains
        netloc = f"[{host}]" if ":" in host else host
        return [f"{netloc}{port}/**"]
    return [f"**.{host.removeprefix('www.')}{port}/**"]


class SessionPool:
    """At most ``size`` sessions of one client, each used for one page at a time and reused for
    the next. A session is opened when a page needs one and none is idle; when the server refuses
    a new one (429: too many sessions) the pool works on with those it has (it fails only when it
    has none). ``aclose`` closes every session it opened."""

    def __init__(
        self,
        client: AsyncSmoothClient,
        size: int,
        *,
        allowed_urls: Sequence[str] | None = None,
        pages_per_session: int = PAGES_PER_SESSION,
        chars_per_session: int = CHARS_PER_SESSION,
    ) -> None:
        if size < 1:
            raise ValueError("a session pool needs room for one session at least")
        self._client = client
        self.size = size
        self._options: dict[str, Any] = {
            "task": None,
            "allowed_urls": list(allowed_urls) if allowed_urls else None,
            # A crawl's pages are read, not watched: no video of them.
            "enable_recording": False,
        }
        self._pages_per_session = pages_per_session
        self._chars_per_session = chars_per_session
        self._cap = size
        self._idle: list[AsyncSession] = []
        self._in_use = 0
        self._opening = 0
        self._worn: dict[str, tuple[int, int]] = {}  # session id -> (pages, characters) so far
        self._opened: list[AsyncSession] = []  # every session this pool opened
        self._background: set[asyncio.Future[Any]] = set()
        self._changed = asyncio.Condition()
        self._closed = False
        self.refusals: list[str] = []  # why the server would not open more sessions
        # Why not even one session could be opened (a wrong key, a server gone): the job's
        # failure, not a page's.
        self.failure: APIError | None = None
        self.peak = 0  # most sessions open at once

    @property
    def open_sessions(self) -> int:
        return len(self._idle) + self._in_use + self._opening

    async def use(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` on a session of the pool and give the session back. A session that ended
        under the work (closed, or cut off by a cancellation) is dropped, not reused; when it had
        ended before the work began (an idle timeout, a crashed browser), the work gets another."""
        for attempt in range(2):
            session = await self._take()
            reusable = False
            try:
                result = await work(session)
                reusable = True
                return result
            except (ActionError, PageError):
                reusable = not session.closed  # the page failed; the session is fine
                raise
            except SessionClosedError:
                if attempt == 1 or self._closed:
                    raise
            finally:
                await self._give_back(session, reusable)
        raise AssertionError("unreachable")

    def raise_failure(self) -> None:
        """Raise the job's failure, if no session could be opened at all."""
        if self.failure is not None:
            raise self.failure

    def wear(self, session: AsyncSession, characters: int) -> None:
        """Count a page and the characters of its answers against ``session``."""
        pages, chars = self._worn.get(session.id, (0, 0))
        self._worn[session.id] = (pages + 1, chars + characters)

    async def _take(self) -> AsyncSession:
        while True:
            async with self._changed:
                while not self._closed and not self._idle and self._in_use + self._opening >= self._cap:
                    await self._changed.wait()
                if self._closed:
                    raise SessionClosedError("the session pool is closed")
                if self._idle:
                    self._in_use += 1
                    return self._idle.pop()
                self._opening += 1
            opening = asyncio.ensure_future(self._open())
            self._background.add(opening)
            opening.add_done_callback(self._background.discard)
            try:
                # Shielded: a session the server opens after this wait was cancelled is still
                # known to the pool, and closed with the others.
                session = await asyncio.shield(opening)
            except APIError as exc:
                async with self._changed:
                    self._opening -= 1
                    self._changed.notify_all()
                    if self._in_use + len(self._idle) + self._opening == 0:
                        self.failure = exc
                        raise
                    # Back off: the sessions already open do the work.
                    self._cap = max(1, self._in_use + len(self._idle) + self._opening)
                    self.refusals.append(str(exc))
                continue
            except BaseException:
                async with self._changed:
                    self._opening -= 1
                    self._changed.notify_all()
                raise
            async with self._changed:
                self._opening -= 1
                self._in_use += 1
                self.peak = max(self.peak, self.open_sessions)
            return session

    async def _open(self) -> AsyncSession:
        session = await self._client.open_session(self._options)
        self._opened.append(session)
        return session

    async def _give_back(self, session: AsyncSession, reusable: bool) -> None:
        pages, chars = self._worn.get(session.id, (0, 0))
        worn = pages >= self._pages_per_session or chars >= self._chars_per_session
        async with self._changed:
            self._in_use -= 1
            if reusable and not worn and not self._closed and not session.closed:
                self._idle.append(session)
            else:
                self._worn.pop(session.id, None)
                self._close_later(session)
            self._changed.notify_all()

    def _close_later(self, session: AsyncSession) -> None:
        with contextlib.suppress(ValueError):
            self._opened.remove(session)  # not kept once closed: a long crawl opens many
        closing = asyncio.ensure_future(_close_quietly(session))
        self._background.add(closing)
        closing.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        """Close every session the pool opened (those still opening once they are open). Done on
        a task of its own: a caller cancelled meanwhile does not leave sessions open."""
        closing = asyncio.ensure_future(self._close_all())
        await wait_for_end(closing)

    async def _close_all(self) -> None:
        async with self._changed:
            self._closed = True
            self._idle.clear()
            self._changed.notify_all()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_BOUND_SECONDS):
                while self._background:
                    await asyncio.gather(*self._background, return_exceptions=True)
                await asyncio.gather(*(_close_quietly(s) for s in self._opened if not s.closed))


async def _close_quietly(session: AsyncSession) -> None:
    # Forced (a DELETE): an action still in flight is not waited for, and there is no profile to
    # save.
    with contextlib.suppress(SmoothError):
        await session.close(force=True)


@dataclass(frozen=True)
class PageRead:
    """What one visit to a page in a session gave."""

    url: str  # where it ended
    status: int | None
    title: str | None
    links: list[str]
    html: str | None


async def read_page(pool: SessionPool, session: AsyncSession, url: str, *, html: bool) -> PageRead:
    """goto ``url`` then one evaluate_js for its links (and HTML); a failure is a ``PageError``."""
    try:
        landed = await session.goto(url)
    except ActionError as exc:
        raise PageError(exc.remote_message) from None
    page: Mapping[str, Any] = landed.output if isinstance(landed.output, Mapping) else {}
    status = page.get("status") if isinstance(page.get("status"), int) else None
    if status is not None and status >= 400:
        pool.wear(session, 0)
        return PageRead(str(page.get("url") or url), status, _text(page.get("title")), [], None)
    try:
        shown = (await session.evaluate_js(PAGE_SCRIPT, {"html": html})).output
    except ActionError as exc:
        raise PageError(f"the page loaded but could not be read: {exc.remote_message}", status) from None
    shown = shown if isinstance(shown, Mapping) else {}
    document = shown.get("html") if isinstance(shown.get("html"), str) else None
    pool.wear(session, len(document or ""))
    links = [link for link in shown.get("links") or () if isinstance(link, str)]
    final = str(shown.get("url") or page.get("url") or url)
    return PageRead(final, status, _text(shown.get("title")) or _text(page.get("title")), links, document)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class _Content:
    """What a crawl took from a page besides its links."""

    title: str | None = None
    markdown: str | None = None
    data: Any = None
    error: str | None = None


async def _extract(
    session: AsyncSession, schema: type[BaseModel] | dict[str, Any], prompt: str | None
) -> tuple[Any, str | None]:
    """The data of the page ``session`` shows, or the reason there is none."""
    try:
        return (await session.extract(schema, prompt)).output, None
    except ActionError as exc:
        return None, exc.remote_message
    except ValidationError as exc:  # the server's data does not fit the model given
        return None, f"the extracted data does not fit {getattr(schema, '__name__', 'the model')}: {exc}"


async def _markdown(html: str, url: str) -> str:
    from ..reading.readable import page_to_markdown

    # On a worker thread: reading a page takes milliseconds of CPU, and the pages in flight and
    # the server (when embedded) share this loop.
    return await asyncio.to_thread(page_to_markdown, html, url)


async def _read_as_markdown(read: PageRead) -> _Content:
    assert read.html is not None
    try:
        return _Content(read.title, markdown=await _markdown(read.html, read.url))
    except Exception as exc:  # the reader's failure on one odd page is that page's
        return _Content(
            read.title, error=f"the page could not be read as markdown: {type(exc).__name__}: {exc}"
        )


# -- the three jobs -----------------------------------------------------------------------------


async def map_pages(
    client: AsyncSmoothClient, mapper: SiteMapper, pool_size: int
) -> AsyncGenerator[MappedPage, None]:
    """The pages of ``mapper``'s site as they are done, read by browser sessions."""
    pool = _site_pool(client, mapper, pool_size)

    async def links_of(url: str) -> PageLinks:
        read = await pool.use(lambda session: read_page(pool, session, url, html=False))
        return PageLinks(read.url, read.links, read.status)

    try:
        async with contextlib.aclosing(_generator(mapper.run(links_of))) as pages:
            async for page in pages:
                pool.raise_failure()
                yield page
    finally:
        await pool.aclose()


async def crawl_pages(
    client: AsyncSmoothClient,
    mapper: SiteMapper,
    pool_size: int,
    schema: type[BaseModel] | dict[str, Any] | None,
    prompt: str | None = None,
) -> AsyncGenerator[PageResult, None]:
    """The pages of ``mapper``'s site, each read as markdown or extracted with ``schema``."""
    pool = _site_pool(client, mapper, pool_size)
    contents: dict[str, _Content] = {}  # requested URL -> what was read, until its page is given

    async def visit(session: AsyncSession, url: str) -> tuple[PageRead, _Content]:
        read = await read_page(pool, session, url, html=schema is None)
        if schema is None or (read.status is not None and read.status >= 400):
            return read, _Content(read.title)
        data, error = await _extract(session, schema, prompt)
        return read, _Content(read.title, data=data, error=error)

    async def links_of(url: str) -> PageLinks:
        read, content = await pool.use(lambda session: visit(session, url))
        if schema is None and read.html is not None:  # read once the session is free again
            content = await _read_as_markdown(read)
        contents[url] = content
        return PageLinks(read.url, read.links, read.status)

    try:
        async with contextlib.aclosing(_generator(mapper.run(links_of))) as pages:
            async for page in pages:
                pool.raise_failure()
                content = contents.pop(page.requested_url, None)
                # Visits that merged into a page given already leave what they read behind.
                for merged in [url for url in contents if url in mapper.report.redirects]:
                    del contents[merged]
                yield _crawled(page, content)
    finally:
        await pool.aclose()


def _crawled(page: MappedPage, content: _Content | None) -> PageResult:
    if not page.ok or content is None:
        error = page.error or "the page was not read"
        return PageResult(page.url, page.requested_url, False, page.depth, error=error, status=page.status)
    return PageResult(
        page.url,
        page.requested_url,
        content.error is None,
        page.depth,
        title=content.title,
        markdown=content.markdown,
        data=content.data,
        error=content.error,
        status=page.status,
    )


def _generator(pages: AsyncIterator[MappedPage]) -> AsyncGenerator[MappedPage, None]:
    # SiteMapper.run is an async generator, annotated as the iterator it is used as.
    return cast(AsyncGenerator[MappedPage, None], pages)


def _site_pool(client: AsyncSmoothClient, mapper: SiteMapper, pool_size: int) -> SessionPool:
    allowed = scope_patterns(mapper.start_url) if mapper.options.same_host else None
    return SessionPool(client, pool_size, allowed_urls=allowed)


def site_mapper(
    url: str,
    *,
    limit: int,
    max_depth: int | None,
    include: Sequence[str],
    exclude: Sequence[str],
    respect_robots: bool,
    same_host: bool,
    pool_size: int,
) -> SiteMapper:
    """The mapper of one map or crawl, its options checked (a bad URL, limit or glob raises)."""
    if isinstance(include, str) or isinstance(exclude, str):
        raise TypeError("include and exclude are lists of URL globs, not one string")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    options = MapOptions(
        limit=limit,
        max_depth=max_depth,
        include=tuple(include),
        exclude=tuple(exclude),
        same_host=same_host,
        respect_robots=respect_robots,
        # A visit or two beyond the sessions: a page being read as markdown has given its session
        # back already, and the next visit is waiting for it.
        concurrency=pool_size + 2,
    )
    return SiteMapper(url, options)


def checked_urls(urls: Sequence[str]) -> list[str]:
    """The URLs of a batch, refused up front when the list is empty or one is no http(s) URL."""
    if isinstance(urls, str):
        raise TypeError("urls is a list of URLs, not one string")
    given = list(urls)
    if not given:
        raise ValueError("urls is empty: give at least one page to extract from")
    bad = [url for url in given if not isinstance(url, str) or normalize_url(url) is None]
    if bad:
        raise ValueError(f"not http(s) URLs with a host: {bad[:5]!r}" + (" ..." if len(bad) > 5 else ""))
    return given


async def extract_pages(
    client: AsyncSmoothClient,
    urls: Sequence[str],
    schema: type[BaseModel] | dict[str, Any],
    pool_size: int,
    prompt: str | None = None,
) -> AsyncGenerator[PageResult, None]:
    """Data from each of ``urls`` with ``schema``, in the order the pages finish."""
    pool = SessionPool(client, min(pool_size, len(urls)))
    waiting = iter(urls)
    done: asyncio.Queue[PageResult | None] = asyncio.Queue()

    async def extract_one(url: str, session: AsyncSession) -> PageResult:
        try:
            read = await read_page_for_data(pool, session, url)
        except PageError as exc:
            return PageResult(normalize_url(url) or url, url, False, error=str(exc), status=exc.status)
        landed = normalize_url(read.url) or read.url
        if read.status is not None and read.status >= 400:
            refused = f"HTTP {read.status}: an error page, so nothing was extracted"
            return PageResult(landed, url, False, title=read.title, error=refused, status=read.status)
        data, error = await _extract(session, schema, prompt)
        return PageResult(
            landed, url, error is None, title=read.title, data=data, error=error, status=read.status
        )

    async def worker() -> None:
        try:
            for url in waiting:
                try:
                    result = await pool.use(functools.partial(extract_one, url))
                except (SmoothError, PageError) as exc:
                    result = PageResult(normalize_url(url) or url, url, False, error=str(exc))
                done.put_nowait(result)
        finally:
            done.put_nowait(None)

    workers = [asyncio.ensure_future(worker()) for _ in range(pool.size)]
    try:
        finished = 0
        while finished < len(workers):
            result = await done.get()
            if result is None:
                finished += 1
                continue
            pool.raise_failure()
            yield result
        for task in workers:  # a failure of the runner itself, not of a page
            task.result()
    finally:
        for task in workers:
            task.cancel()
        try:
            await asyncio.gather(*workers, return_exceptions=True)
        finally:  # cancelled again while the workers stop, the pool's sessions are closed still
            await pool.aclose()


async def read_page_for_data(pool: SessionPool, session: AsyncSession, url: str) -> PageRead:
    """goto ``url`` alone (the extraction reads the page itself); a failure is a ``PageError``."""
    try:
        landed = await session.goto(url)
    except ActionError as exc:
        raise PageError(exc.remote_message) from None
    pool.wear(session, 0)
    page: Mapping[str, Any] = landed.output if isinstance(landed.output, Mapping) else {}
    status = page.get("status") if isinstance(page.get("status"), int) else None
    return PageRead(str(page.get("url") or url), status, _text(page.get("title")), [], None)
