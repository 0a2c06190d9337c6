"""URL glob patterns, as ``allowed_urls`` reads them: one definition for every place that matches
URLs against user-given globs (the local server's network policy, a crawl's include/exclude).

Imports nothing else of the package, so the self-hosted server and the core can both use it.

``**`` spans anything (dots and slashes included), ``*`` one host label or path segment, ``?``
one character. ``**.`` before a domain also matches the bare domain, and a trailing ``/**`` also
matches the bare origin. A pattern without ``://`` is matched against the URL without its scheme;
a pattern with a scheme and no path covers its whole origin.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit


def glob_source(pattern: str) -> str:
    """The regular expression (source text) a URL glob stands for, to be matched in full."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**.", i):
            out.append(r"(?:[^/]*\.)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            # A trailing "/**" also matches the bare origin without a path.
            out.append(r"(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(r".*")
            i += 2
        elif pattern[i] == "*":
            out.append(r"[^/.]*" if "/" not in pattern[:i].split("://", 1)[-1] else r"[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append(r".")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A glob compiled for ``fullmatch``, case-insensitive as hosts are."""
    return re.compile(glob_source(pattern), re.IGNORECASE)


def comparable_url(url: str, with_scheme: bool) -> str:
    """The form of ``url`` a glob is matched against: lower-case host, explicit port, ``/`` for an
    empty path, no fragment; with the scheme only for patterns that name one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    rest = f"{host}{path}" + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{rest}" if with_scheme else rest


def glob_matches(pattern: str, url: str) -> bool:
    """Whether the http(s) ``url`` matches ``pattern``. A URL whose port is not a valid number
    raises ``ValueError`` (callers decide what such a URL means)."""
    with_scheme = "://" in pattern
    if compile_glob(pattern).fullmatch(comparable_url(url, with_scheme)):
        return True
    # A pattern without a path ("https://example.com") covers its whole origin.
    if with_scheme and urlsplit(pattern).path in ("", "/"):
        origin_only = comparable_url(url, True).split("/", 3)
        if compile_glob(pattern.rstrip("/")).fullmatch("/".join(origin_only[:3])):
            return True
    return False
