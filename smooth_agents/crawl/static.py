"""The static-HTML fallback for a page's links: the HTML as the server sent it, read over plain
HTTP, its ``<a href>`` and ``<area href>`` links. A browser shows more (links scripts add); the
runner uses the rendered page's links, this serves tests, benchmarks and script-free sites."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urljoin

from .fetch import Fetcher, FetchError
from .mapper import PageError, PageLinks

HTML_TYPES = ("text/html", "application/xhtml+xml")


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = next((value for name, value in attrs if name == "href" and value), None)
        if href is None:
            return
        if tag == "base" and self.base is None:
            self.base = href.strip()
        elif tag in ("a", "area"):
            self.hrefs.append(href.strip())


def links_in_html(html: str, page_url: str) -> list[str]:
    """The absolute URLs of the links in ``html``, in document order, resolved against the page's
    ``<base href>`` when it has one. Not normalised: the frontier does that."""
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return [urljoin(base, href) for href in parser.hrefs]


class StaticLinks:
    """A ``links_of`` over plain HTTP: fetches the page with ``fetcher``, following redirects that
    ``allow`` accepts (the crawl scope's ``host_allowed``), and returns the links of its HTML."""

    def __init__(self, fetcher: Fetcher, *, allow: Callable[[str], bool] | None = None) -> None:
        self.fetcher = fetcher
        self.allow = allow

    async def __call__(self, url: str) -> PageLinks:
        try:
            fetched = await self.fetcher.get(url, allow=self.allow)
        except FetchError as exc:
            raise PageError(str(exc)) from exc
        media_type = fetched.content_type.split(";", 1)[0].strip().lower()
        if not fetched.ok or media_type not in HTML_TYPES:
            return PageLinks(fetched.url, (), fetched.status)
        return PageLinks(fetched.url, links_in_html(fetched.text(), fetched.url), fetched.status)
