"""Plain HTTP for what a crawl reads without a browser: robots.txt, sitemaps, and (as the
static-HTML fallback) pages. Timeouts, a bound on each body, and redirects followed one hop at a
time so that none leaves the crawl's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx2

from .._version import __version__

USER_AGENT = f"smooth-agents/{__version__} (site map)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """A URL could not be read: the connection failed, timed out, or a redirect left the scope."""


@dataclass(frozen=True)
class Fetched:
    """A response as read: where it ended after redirects, its status, its type and its body
    (cut at the size bound when ``truncated``)."""

    url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        """The body as text, in the charset the response names (UTF-8 otherwise)."""
        charset = "utf-8"
        for param in self.content_type.split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"' ")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.body.decode("utf-8", errors="replace")


class Fetcher:
    """GET requests for a crawl over one pooled httpx2 client (closed with the fetcher when it
    made the client itself)."""

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        transport: httpx2.AsyncBaseTransport | None = None,
        client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._owns_client = client is None
        self._client = client or httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout),
            headers={"user-agent": user_agent},
            follow_redirects=False,
            transport=transport,
        )

    async def get(
        self, url: str, *, allow: Callable[[str], bool] | None = None, max_bytes: int | None = None
    ) -> Fetched:
        """GET ``url``, following redirects to URLs that ``allow`` accepts (any http(s) URL without
        it). A status of 4xx or 5xx is an answer, returned as such; a failed connection, a
        timeout or a refused redirect raises ``FetchError``."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        for _ in range(self.max_redirects + 1):
            try:
                async with self._client.stream("GET", url) as response:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        next_url = urljoin(url, location)
                        if urlsplit(next_url).scheme not in ("http", "https") or (
                            allow is not None and not allow(next_url)
                        ):
                            raise FetchError(f"{url} redirects to {next_url}, outside the crawl's scope")
                        url = next_url
                        continue
                    body, truncated = await _read_bounded(response, limit)
                    return Fetched(
                        url=url,
                        status=response.status_code,
                        content_type=response.headers.get("content-type", ""),
                        body=body,
                        truncated=truncated,
                    )
            except httpx2.HTTPError as exc:
                raise FetchError(f"{url} could not be read: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url} redirects more than {self.max_redirects} times")

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _read_bounded(response: httpx2.Response, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False
