"""robots.txt rules as real files write them, and what an unreadable robots.txt means."""

from __future__ import annotations

import httpx2
import pytest

from smooth_agents.crawl import Fetcher, RobotsRules, load_robots

ROBOTS = """\
# A shop's robots.txt
User-agent: *
Disallow: /private/
Allow: /private/press
Disallow: /*?sort=
Disallow: /*.pdf$
Crawl-delay: 2

User-agent: smooth-agents
Disallow: /no-agents/
Allow: /

User-agent: other-bot
Disallow: /

Sitemap: https://shop.example/sitemap_index.xml
Sitemap: https://shop.example/news.xml
"""


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        ("some-bot", "/private/secret", False),
        ("some-bot", "/private/press", True),  # the longer Allow wins over the shorter Disallow
        ("some-bot", "/category/kitchen?sort=price", False),  # a wildcard in the path
        ("some-bot", "/category/kitchen?page=2", True),
        ("some-bot", "/docs/manual.pdf", False),  # "$" anchors the end
        ("some-bot", "/docs/manual.pdf.html", True),
        ("smooth-agents", "/private/secret", True),  # our own group replaces the "*" group
        ("smooth-agents", "/no-agents/x", False),
        ("other-bot", "/", False),
    ],
)
def test_rules_are_read_as_rfc_9309_says(agent: str, path: str, allowed: bool) -> None:
    rules = RobotsRules.parse(ROBOTS, agent)
    assert rules.allows(f"https://shop.example{path}") is allowed


def test_sitemap_lines_and_crawl_delay_are_read() -> None:
    rules = RobotsRules.parse(ROBOTS, "some-bot")
    assert rules.sitemaps == ("https://shop.example/sitemap_index.xml", "https://shop.example/news.xml")
    assert rules.crawl_delay == 2.0


def answering(status: int, body: str = "") -> Fetcher:
    """A fetcher whose every request gets this answer (fault injection at the HTTP boundary)."""
    return Fetcher(transport=httpx2.MockTransport(lambda request: httpx2.Response(status, text=body)))


def refusing() -> Fetcher:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    return Fetcher(transport=httpx2.MockTransport(refuse))


async def test_a_missing_robots_txt_allows_everything() -> None:
    async with answering(404) as fetcher:
        rules = await load_robots(fetcher, "https://shop.example")
    assert rules.allows("https://shop.example/private/x")
    assert "404" in rules.note


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_an_unreachable_robots_txt_allows_nothing(status: int) -> None:
    async with answering(status) as fetcher:
        rules = await load_robots(fetcher, "https://shop.example")
    assert not rules.allows("https://shop.example/")
    assert str(status) in rules.note


async def test_a_failed_connection_allows_nothing() -> None:
    async with refusing() as fetcher:
        rules = await load_robots(fetcher, "https://shop.example")
    assert not rules.allows("https://shop.example/")
    assert "unreachable" in rules.note


async def test_a_robots_txt_read_over_http_is_obeyed() -> None:
    async with answering(200, ROBOTS) as fetcher:
        rules = await load_robots(fetcher, "https://shop.example", "some-bot")
    assert not rules.allows("https://shop.example/private/secret")
    assert rules.allows("https://shop.example/private/press")
    assert rules.sitemaps[0] == "https://shop.example/sitemap_index.xml"


async def test_only_the_first_half_megabyte_is_read() -> None:
    # RFC 9309 lets a crawler stop reading after 500 KiB: rules past that are not seen.
    huge = "User-agent: *\n" + "# filler\n" * 70_000 + "Disallow: /late/\n"
    async with answering(200, huge) as fetcher:
        rules = await load_robots(fetcher, "https://shop.example")
    assert rules.allows("https://shop.example/late/page")
