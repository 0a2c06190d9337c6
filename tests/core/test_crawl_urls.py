"""URL normalisation and include/exclude globs of site maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from smooth_agents.crawl.urls import UrlGlobs, is_tracking_parameter, normalize_url
from smooth_agents.local.browser.url_policy import UrlPolicy
from tests.core.test_architecture import ROOT, modules_imported_by
from tests.local.test_url_policy import CASES as ALLOWED_URL_CASES

NORMALISED = [
    # url, base, expected
    ("HTTPS://Shop.Example.COM:443/a", None, "https://shop.example.com/a"),
    ("http://shop.example.com:80", None, "http://shop.example.com/"),
    ("http://shop.example.com:8080/a", None, "http://shop.example.com:8080/a"),
    ("https://shop.example.com/a#reviews", None, "https://shop.example.com/a"),
    ("https://s.example/p?utm_source=x&utm_medium=y&id=3", None, "https://s.example/p?id=3"),
    (
        "https://s.example/p?id=3&gclid=1&fbclid=2&msclkid=3&mc_cid=4&mc_eid=5&_ga=6",
        None,
        "https://s.example/p?id=3",
    ),
    ("https://s.example/p?UTM_Source=x", None, "https://s.example/p"),
    ("https://s.example/p?ref_src=twsrc&ref=main", None, "https://s.example/p?ref=main"),
    # Parameters that name content stay, in their order and spelling.
    (
        "https://s.example/search?keyword=red+shoes&source=catalog&page=2",
        None,
        "https://s.example/search?keyword=red+shoes&source=catalog&page=2",
    ),
    ("https://s.example/p?a=&&b=1", None, "https://s.example/p?a=&b=1"),
    ("https://s.example/a/./b/../c", None, "https://s.example/a/c"),
    ("../c?x=1#f", "https://s.example/a/b/page", "https://s.example/a/c?x=1"),
    ("/rooted", "https://s.example/a/b", "https://s.example/rooted"),
    ("//cdn.example/x", "https://s.example/", "https://cdn.example/x"),
    ("  /spaced\n/path\t ", "https://s.example/", "https://s.example/spaced/path"),
    ("?page=2", "https://s.example/list?page=1", "https://s.example/list?page=2"),
    ("#top", "https://s.example/list", "https://s.example/list"),
    ("https://BÜCHER.example/", None, "https://xn--bcher-kva.example/"),
    ("http://[::1]:8000/x", None, "http://[::1]:8000/x"),
]


@pytest.mark.parametrize(("url", "base", "expected"), NORMALISED)
def test_urls_are_normalised_to_one_spelling(url: str, base: str | None, expected: str) -> None:
    assert normalize_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mailto:a@b.example",
        "javascript:void(0)",
        "tel:+1555",
        "ftp://files.example/x",
        "data:text/plain,hi",
        "http:///nohost",
        "http://s.example:99999/",
        "http://s.example:port/",
    ],
)
def test_only_http_urls_with_a_host_survive(url: str) -> None:
    assert normalize_url(url) is None


def test_normalising_twice_changes_nothing() -> None:
    for url, base, _ in NORMALISED:
        once = normalize_url(url, base)
        assert once is not None
        assert normalize_url(once) == once


@pytest.mark.parametrize("name", ["utm_campaign", "utm_content", "gclid", "fbclid", "msclkid", "mtm_source"])
def test_tracking_parameters_are_known(name: str) -> None:
    assert is_tracking_parameter(name)


@pytest.mark.parametrize("name", ["id", "page", "q", "keyword", "source", "ref", "sort", "lang"])
def test_content_parameters_are_not_tracking(name: str) -> None:
    assert not is_tracking_parameter(name)


PARITY_URLS = [
    "https://example.com/",
    "https://shop.example.com/products/12",
    "http://shop.example.com/products/12?x=1",
    "https://a.b.example.com/docs/intro",
    "https://example.com/docs/a/b",
    "http://127.0.0.1:8123/page",
    "https://evil.org/example.com/",
    "https://example.com.evil.org/products/1",
]
PARITY_PATTERNS = [
    "https://**.example.com/**",
    "https://*.example.com/**",
    "**/products/*",
    "**/products/**",
    "https://example.com/docs/*",
    "https://example.com",
    "example.com/**",
    "http://127.0.0.1:*/**",
    "**/pro?ucts/**",
]


@pytest.mark.parametrize(
    ("pattern", "url"),
    [(p, u) for p, u, _ in ALLOWED_URL_CASES] + [(p, u) for p in PARITY_PATTERNS for u in PARITY_URLS],
)
def test_include_globs_answer_as_allowed_urls_do(pattern: str, url: str) -> None:
    assert UrlGlobs.of(include=[pattern]).allows(url) is UrlPolicy([pattern]).allows(url)
    assert UrlGlobs.of(exclude=[pattern]).allows(url) is not UrlPolicy([pattern]).allows(url)


def test_include_and_exclude_together() -> None:
    globs = UrlGlobs.of(include=["**/products/**", "**/category/*"], exclude=["**/products/*-draft"])
    assert globs.allows("https://s.example/products/1-kettle")
    assert globs.allows("https://s.example/category/garden?page=2")
    assert not globs.allows("https://s.example/products/2-draft")
    assert not globs.allows("https://s.example/about")
    assert UrlGlobs.of().allows("https://anything.example/at/all")


def test_empty_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        UrlGlobs.of(include=["**/ok/**", " "])


def test_the_crawl_package_is_part_of_the_core() -> None:
    # The runner and the adapters build on it; it must not pull in the local server or an adapter.
    forbidden = ("smooth_agents.local", "mcp", "langchain", "langchain_core", "playwright", "mcp_server")
    for path in Path(ROOT / "smooth_agents" / "crawl").rglob("*.py"):
        bad = {m for m in modules_imported_by(path) if m.startswith(forbidden)}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
    assert modules_imported_by(ROOT / "smooth_agents" / "url_globs.py") <= {
        "__future__",
        "re",
        "functools",
        "urllib.parse",
    }
