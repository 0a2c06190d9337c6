"""allowed_urls glob matching and the schemes a page may never load, as a table."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from smooth_agents.local.browser.url_policy import BlockedUrlError, UrlPolicy, check_navigation_url

CASES = [
    # pattern, url, allowed
    ("https://**.example.com/**", "https://example.com/", True),
    ("https://**.example.com/**", "https://example.com", True),
    ("https://**.example.com/**", "https://shop.eu.example.com/a/b?c=d", True),
    ("https://**.example.com/**", "http://example.com/", False),
    ("https://**.example.com/**", "https://example.com.evil.org/", False),
    ("https://**.example.com/**", "https://evil.org/example.com/", False),
    ("https://*.example.com/**", "https://a.example.com/x", True),
    ("https://*.example.com/**", "https://a.b.example.com/x", False),
    ("https://example.com/docs/*", "https://example.com/docs/intro", True),
    ("https://example.com/docs/*", "https://example.com/docs/a/b", False),
    ("https://example.com", "https://example.com/anything/below", True),
    ("example.com/**", "http://example.com/x", True),
    ("example.com/**", "https://example.com/x", True),
    ("http://127.0.0.1:*/**", "http://127.0.0.1:8123/page", True),
    ("http://127.0.0.1:8000/**", "http://127.0.0.1:9000/page", False),
]


@pytest.mark.parametrize(("pattern", "url", "allowed"), CASES)
def test_glob_patterns(pattern: str, url: str, allowed: bool) -> None:
    assert UrlPolicy([pattern]).allows(url) is allowed


def test_no_patterns_allow_every_web_url_but_no_other_scheme() -> None:
    policy = UrlPolicy(None)
    assert policy.allows("https://anything.example/")
    assert policy.allows("data:text/plain,hi")
    assert not policy.allows("file:///etc/passwd")
    assert not policy.allows("chrome://settings")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "chrome://version", "javascript:alert(1)", "view-source:https://a.b", "http:///x"],
)
def test_navigation_to_non_web_urls_is_refused(url: str) -> None:
    with pytest.raises(BlockedUrlError):
        check_navigation_url(url)


def test_empty_patterns_are_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        UrlPolicy(["https://ok.example/**", "  "])


HOST_CASES = [
    # pattern, host, port, whether some URL on that host and port may be allowed
    ("https://**.example.com/**", "shop.eu.example.com", 443, True),
    ("https://**.example.com/**", "example.com.evil.org", 443, False),
    ("https://**.example.com/**", "example.com", 8443, False),
    ("https://example.com/docs/*", "example.com", 443, True),  # the path is judged per request
    ("https://example.com", "example.org", 443, False),
    ("example.com/**", "example.com", 80, True),
    ("http://127.0.0.1:8000/**", "127.0.0.1", 8000, True),
    ("http://127.0.0.1:8000/**", "127.0.0.1", 9000, False),
    ("http://127.0.0.1:8000/**", "127.0.0.2", 8000, False),
    ("**/public/**", "anything.example", 443, True),  # a path anywhere: any host may hold it
]


@pytest.mark.parametrize(("pattern", "host", "port", "allowed"), HOST_CASES)
def test_hosts_are_judged_by_whether_any_url_on_them_may_be_allowed(
    pattern: str, host: str, port: int, allowed: bool
) -> None:
    assert UrlPolicy([pattern]).allows_host(host, port) is allowed


@pytest.mark.parametrize(("pattern", "url", "allowed"), [case for case in CASES if case[2]])
def test_the_host_of_every_allowed_url_is_allowed(pattern: str, url: str, allowed: bool) -> None:
    # The proxy judges connections by host: it must never refuse what the URL rules allow.
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}[parts.scheme]
    assert UrlPolicy([pattern]).allows_host(parts.hostname or "", port)
