"""Sitemaps: ``urlset`` files, sitemap indexes (nested, bounded in depth and count), gzip, and
the plain-text form (one URL a line). A sitemap that cannot be read is skipped with its reason,
never fatal to the map.

Read with the standard library's expat, streaming, and with any DTD refused: a sitemap never
needs one, and refusing it shuts out entity expansion (billion laughs) and external entities
(XXE) at once, as defusedxml does. ultimate-sitemap-parser was not used: it fetches with its own
blocking HTTP stack, outside this crawl's scope checks, size bounds and event loop.
"""

from __future__ import annotations

import xml.parsers.expat
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .fetch import Fetcher, FetchError

# The sitemaps protocol's own bounds on one file: 50 MB uncompressed, 50,000 URLs.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
MAX_URLS_PER_SITEMAP = 50_000
GZIP_MAGIC = b"\x1f\x8b"


class SitemapError(ValueError):
    """A sitemap that cannot be read: bad XML, a DTD, an unknown root, too large."""


@dataclass(frozen=True)
class Sitemap:
    """One sitemap file: a list of pages (``urlset``) or of further sitemaps (``index``)."""

    kind: Literal["urlset", "index"]
    locs: tuple[str, ...]


def parse_sitemap(data: bytes, *, max_bytes: int = MAX_SITEMAP_BYTES) -> Sitemap:
    """The locations a sitemap lists; gzip is recognised by its magic bytes."""
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(data, max_bytes)
    elif len(data) > max_bytes:
        raise SitemapError(f"larger than {max_bytes} bytes")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _parse_xml(data)
    return _parse_text(head)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    # Decompressed in steps, so a small file that inflates to gigabytes stops at the bound.
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise SitemapError(f"bad gzip: {exc}") from exc
    if len(out) > max_bytes:
        raise SitemapError(f"larger than {max_bytes} bytes once decompressed")
    return out


def _parse_text(data: bytes) -> Sitemap:
    lines = data.decode("utf-8", errors="replace").splitlines()
    locs = [line.strip() for line in lines if line.strip().lower().startswith(("http://", "https://"))]
    if not locs:
        raise SitemapError("neither XML nor a list of URLs")
    return Sitemap("urlset", tuple(locs[:MAX_URLS_PER_SITEMAP]))


def _parse_xml(data: bytes) -> Sitemap:
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[str] = []
    locs: list[str] = []
    text: list[str] = []
    root: list[str] = []

    def refuse_dtd(*_: object) -> None:
        raise SitemapError("a sitemap may not declare a DTD or entities")

    def start(name: str, _attributes: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if not stack:
            if local not in ("urlset", "sitemapindex"):
                raise SitemapError(f"the root element is <{local}>, not <urlset> or <sitemapindex>")
            root.append(local)
        stack.append(local)
        if local == "loc":
            text.clear()

    def end(_name: str) -> None:
        # A page's or a sitemap's own <loc>, not an image's or a video's inside it.
        if len(stack) >= 2 and stack[-1] == "loc" and stack[-2] in ("url", "sitemap"):
            loc = "".join(text).strip()
            if loc and len(locs) < MAX_URLS_PER_SITEMAP:
                locs.append(loc)
        stack.pop()

    def characters(data: str) -> None:
        if stack and stack[-1] == "loc":
            text.append(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise SitemapError(f"bad XML: {exc}") from exc
    return Sitemap("index" if root == ["sitemapindex"] else "urlset", tuple(locs))


@dataclass
class SitemapUrls:
    """What reading a site's sitemaps found: the page URLs (as listed, in order), the sitemap
    files read, and those skipped with the reason."""

    urls: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


async def read_sitemaps(
    fetcher: Fetcher,
    roots: Iterable[str],
    *,
    allow: Callable[[str], bool] | None = None,
    max_sitemaps: int = 50,
    max_depth: int = 3,
    max_urls: int = 50_000,
) -> SitemapUrls:
    """Read the sitemaps at ``roots`` and the indexes below them, breadth-first: at most
    ``max_sitemaps`` files, indexes nested at most ``max_depth`` deep (a root is depth 0), at most
    ``max_urls`` page URLs. Sitemap files ``allow`` refuses are skipped, unread."""
    found = SitemapUrls()
    queue = deque((url, 0) for url in dict.fromkeys(roots))
    seen = {url for url, _ in queue}
    while queue and len(found.read) < max_sitemaps and len(found.urls) < max_urls:
        url, depth = queue.popleft()
        if allow is not None and not allow(url):
            found.skipped.append((url, "outside the crawl's scope"))
            continue
        try:
            fetched = await fetcher.get(url, allow=allow, max_bytes=MAX_SITEMAP_BYTES)
        except FetchError as exc:
            found.skipped.append((url, str(exc)))
            continue
        if not fetched.ok:
            found.skipped.append((url, f"HTTP {fetched.status}"))
            continue
        if fetched.truncated:
            found.skipped.append((url, f"larger than {MAX_SITEMAP_BYTES} bytes"))
            continue
        try:
            sitemap = parse_sitemap(fetched.body)
        except SitemapError as exc:
            found.skipped.append((url, str(exc)))
            continue
        found.read.append(url)
        if sitemap.kind == "urlset":
            found.urls.extend(sitemap.locs[: max_urls - len(found.urls)])
            continue
        for child in sitemap.locs:
            if child in seen:
                continue
            seen.add(child)
            if depth + 1 > max_depth:
                found.skipped.append((child, f"sitemap indexes nested deeper than {max_depth}"))
            else:
                queue.append((child, depth + 1))
    return found
