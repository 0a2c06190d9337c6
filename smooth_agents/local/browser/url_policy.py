"""Which URLs a task's browser may load.

Two rules: pages never reach local files or browser internals (``file:``, ``chrome:`` and the
like), and when a task gives ``allowed_urls`` every request must match one of its glob patterns.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import regex

from ...url_globs import comparable_url, compile_glob, glob_matches, glob_source

# Schemes a page may load at all. ``data:``, ``blob:`` and ``about:`` stay inside the page.
WEB_SCHEMES = frozenset({"http", "https"})
INNER_SCHEMES = frozenset({"data", "blob", "about"})


class BlockedUrlError(ValueError):
    """The URL is not allowed for this task."""


def check_navigation_url(url: str) -> str:
    """Validate a URL given to ``goto`` or as a task's start URL; return it unchanged."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES and url != "about:blank":
        raise BlockedUrlError(
            f"Cannot open {url!r}: only http and https URLs are allowed (scheme {scheme or 'missing'!r})."
        )
    if scheme in WEB_SCHEMES and not parts.hostname:
        raise BlockedUrlError(f"Cannot open {url!r}: the URL has no host.")
    try:
        parts.port  # noqa: B018 (read for its check: a port outside 0-65535 raises)
    except ValueError:
        raise BlockedUrlError(f"Cannot open {url!r}: its port is not a valid port number.") from None
    return url


@lru_cache(maxsize=512)
def _compile_glob_for_prefixes(pattern: str) -> regex.Pattern[str]:
    # The ``regex`` module answers whether a string can still be completed into a match
    # (``partial=True``), which ``re`` cannot.
    return regex.compile(glob_source(pattern), regex.IGNORECASE)


class UrlPolicy:
    """The allowed-URL rules of one task."""

    def __init__(self, allowed_urls: Sequence[str] | None) -> None:
        self.patterns = tuple(allowed_urls or ())
        for pattern in self.patterns:
            if not pattern.strip():
                raise ValueError("allowed_urls must not contain empty patterns")

    @property
    def restricts(self) -> bool:
        return bool(self.patterns)

    def allows(self, url: str) -> bool:
        scheme = urlsplit(url).scheme.lower()
        if scheme in INNER_SCHEMES:
            return True
        if scheme not in WEB_SCHEMES:
            return False
        if not self.patterns:
            return True
        try:
            urlsplit(url).port  # noqa: B018 (a port outside 0-65535 raises: such a URL matches nothing)
        except ValueError:
            return False
        return any(glob_matches(pattern, url) for pattern in self.patterns)

    def allows_host(self, host: str, port: int) -> bool:
        """Whether some http or https URL on ``host`` and ``port`` is allowed: all that can be
        judged of a connection whose URLs are not seen (a proxy's CONNECT tunnel). The URLs
        themselves are judged by ``allows`` as they are requested."""
        if not self.patterns:
            return True
        netloc = f"[{host}]" if ":" in host else host
        for scheme, default_port in (("http", 80), ("https", 443)):
            origin = f"{scheme}://{netloc}" + ("" if port == default_port else f":{port}")
            for pattern in self.patterns:
                with_scheme = "://" in pattern
                start = comparable_url(origin + "/", with_scheme)  # what every URL of the origin begins with
                if _compile_glob_for_prefixes(pattern).fullmatch(start, partial=True):
                    return True
                covers_origin = with_scheme and urlsplit(pattern).path in ("", "/")  # as in allows()
                if covers_origin and compile_glob(pattern.rstrip("/")).fullmatch(start.removesuffix("/")):
                    return True
        return False

    def allows_socket(self, url: str) -> bool:
        """A WebSocket URL, judged as the page URL of its host and path (ws as http, wss as https)."""
        parts = urlsplit(url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower())
        return scheme is not None and self.allows(parts._replace(scheme=scheme).geturl())

    def check(self, url: str) -> None:
        check_navigation_url(url)
        if not self.allows(url):
            raise BlockedUrlError(
                f"Cannot open {url!r}: it matches none of this task's allowed_urls {list(self.patterns)}."
            )
