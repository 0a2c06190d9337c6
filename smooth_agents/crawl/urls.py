"""URLs as a site map counts them: one spelling per page, and the include/exclude globs.

A small normaliser of our own rather than courlan's: courlan's tracker filter also drops
parameters that name content (``keyword``, ``source``, ``uid``), which would merge distinct pages
such as ``/search?keyword=shoes`` with ``/search``, and its strict mode keeps only a short list of
parameters. The list here drops only parameters that exist to track clicks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from ..url_globs import glob_matches

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters set by ad platforms, mail tools and analytics to track a click; no page's content
# depends on them. ``ref`` is left alone: on many sites it names a branch, a tag or a referral
# that changes the page.
TRACKING_PARAMETERS = frozenset(
    {
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "rb_clickid",
        "s_cid",
        "ref_src",
        "ref_url",
        "srsltid",
        "_openstat",
        "pk_campaign",
        "pk_kwd",
        "pk_source",
        "pk_medium",
        "pk_content",
        "pk_cid",
    }
)
# Whole families of tracking parameters (Google Analytics, Matomo, HubSpot ads).
TRACKING_PREFIXES = ("utm_", "mtm_", "hsa_")

# Browsers drop these anywhere in a URL before parsing it (the WHATWG URL standard).
_INVISIBLE = re.compile(r"[\t\n\r]")


def is_tracking_parameter(name: str) -> bool:
    """Whether a query parameter only tracks a click (``utm_source``, ``gclid``, ...)."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def normalize_url(url: str, base: str | None = None) -> str | None:
    """One spelling per page: ``url`` (resolved against ``base`` when relative) with scheme and
    host lower-cased, the default port, the fragment and tracking parameters dropped, dot segments
    resolved and an empty path made ``/``. None for anything but an http(s) URL with a host."""
    url = _INVISIBLE.sub("", url).strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, a malformed IPv6 host
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in WEB_SCHEMES or not host:
        return None
    netloc = _host_for_netloc(host)
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    path = parts.path or "/"
    if "/." in path:
        path = urlsplit(urljoin("http://h/", path)).path
    query = "&".join(
        part
        for part in parts.query.split("&")
        if part and not is_tracking_parameter(unquote_plus(part.split("=", 1)[0]))
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _host_for_netloc(host: str) -> str:
    if ":" in host:  # an IPv6 address
        return f"[{host}]"
    try:
        # One spelling for international names: the ASCII (punycode) form a request sends.
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def host_of(url: str) -> str:
    """The lower-case host name of a URL ("" when it has none)."""
    return urlsplit(url).hostname or ""


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a normalised URL: what robots.txt rules belong to."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


@dataclass(frozen=True)
class UrlGlobs:
    """Include and exclude patterns, each read as an ``allowed_urls`` glob names a whole URL
    (``**/products/**``, ``https://shop.example/docs/*``). A URL passes when it matches some
    include pattern (or none is given) and no exclude pattern."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> UrlGlobs:
        globs = cls(tuple(include or ()), tuple(exclude or ()))
        for pattern in (*globs.include, *globs.exclude):
            if not pattern.strip():
                raise ValueError("include and exclude must not contain empty patterns")
        return globs

    def allows(self, url: str) -> bool:
        try:
            if self.include and not any(glob_matches(p, url) for p in self.include):
                return False
            return not any(glob_matches(p, url) for p in self.exclude)
        except ValueError:  # a port out of range: not a URL any crawl visits
            return False
