"""Mapping the generated shop (tests/crawl_site.py) with the static-HTML links: every trap."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from smooth_agents.crawl import (
    Fetcher,
    LinksOf,
    MapOptions,
    MappedPage,
    PageLinks,
    SiteMapper,
    StaticLinks,
    map_site,
)
from tests.crawl_site import REDIRECTED_PRODUCT, SITEMAP_ONLY, CrawlSite


@pytest.fixture(scope="module")
def site() -> Iterator[CrawlSite]:
    with CrawlSite() as served:
        yield served


async def mapped(
    site: CrawlSite, options: MapOptions, wrap: object = None
) -> tuple[list[MappedPage], SiteMapper]:
    """Map the shop from its home page; ``wrap`` may wrap the static links_of."""
    site.hits.clear()
    async with Fetcher() as fetcher:
        mapper = SiteMapper(site.url("/"), options, fetcher=fetcher)
        links_of: LinksOf = StaticLinks(fetcher, allow=mapper.scope.host_allowed)
        if callable(wrap):
            links_of = wrap(links_of)
        return [page async for page in mapper.run(links_of)], mapper


def fetched(site: CrawlSite, fragment: str) -> list[str]:
    return [target for target in site.hits if fragment in target]


@dataclass
class FullMap:
    pages: list[MappedPage]
    mapper: SiteMapper
    hits: Counter[str]  # the shop's requests during the map
    outside_hits: int


@pytest.fixture(scope="module")
async def full(site: CrawlSite) -> FullMap:
    """One map of the shop with a generous limit, read by the tests below."""
    pages, mapper = await mapped(site, MapOptions(limit=400, concurrency=8))
    return FullMap(pages, mapper, Counter(site.hits), site.outside_hits)


async def test_a_generous_limit_finds_every_product_and_the_calendar_ends_at_the_limit(
    site: CrawlSite, full: FullMap
) -> None:
    pages, mapper = full.pages, full.mapper
    assert len(pages) == 400
    assert mapper.report.stopped_at_limit
    products = site.product_urls()
    found = {page.url for page in pages if page.ok}
    assert set(products) <= found  # all 220
    sitemap_only = {url for url, product in products.items() if product.id in SITEMAP_ONLY}
    assert {page.source for page in pages if page.url in sitemap_only} == {"sitemap"}
    # What the limit left over went to the endless calendar.
    assert sum("/events" in page.url for page in pages) > 100


async def test_the_calendar_does_not_crowd_out_the_site_under_a_small_limit(site: CrawlSite) -> None:
    pages, _ = await mapped(site, MapOptions(limit=80))
    assert len(pages) == 80
    assert sum("/events" in page.url for page in pages) <= 10
    assert sum("/products/" in page.url for page in pages) >= 40


async def test_max_depth_ends_the_calendar_before_the_limit(site: CrawlSite) -> None:
    pages, mapper = await mapped(site, MapOptions(limit=1000, max_depth=6, concurrency=8))
    assert not mapper.report.stopped_at_limit
    assert max(page.depth for page in pages) == 6
    months = [page for page in pages if "/events?month=" in page.url]
    assert len(months) == 11  # depth 1 to 6: one month each way from the first one
    assert set(site.product_urls()) <= {page.url for page in pages}


async def test_duplicates_merge_and_no_page_is_fetched_twice(full: FullMap) -> None:
    urls = [page.url for page in full.pages]
    assert len(urls) == len(set(urls))
    assert max(full.hits.values()) == 1
    # Tracking parameters and fragments are never sent; reported URLs carry none.
    assert not [target for target in full.hits if "utm_" in target or "clid" in target or "ref_src" in target]
    assert not [url for url in urls if "#" in url or "utm_" in url]


async def test_a_redirect_is_recorded_where_it_lands(site: CrawlSite, full: FullMap) -> None:
    pages, mapper = full.pages, full.mapper
    product = site.url(site.shop.products[REDIRECTED_PRODUCT - 1].path)
    landed = [page for page in pages if page.url == product]
    assert len(landed) == 1
    assert landed[0].requested_url == site.url(f"/old/widget-{REDIRECTED_PRODUCT}")
    assert landed[0].ok
    assert not [page for page in pages if "/old/" in page.url]
    assert mapper.report.redirects == {site.url(f"/old/widget-{REDIRECTED_PRODUCT}"): product}


async def test_a_broken_link_is_that_pages_failure(site: CrawlSite, full: FullMap) -> None:
    pages = full.pages
    (missing,) = [page for page in pages if page.url == site.url("/missing")]
    assert missing.status == 404
    assert missing.error == "HTTP 404"
    assert len(pages) == 400  # the map went on


async def test_the_outside_host_gets_no_request(site: CrawlSite, full: FullMap) -> None:
    assert full.outside_hits == 0
    (partner,) = [page for page in full.pages if page.url == site.url("/partner")]
    assert partner.error is not None
    assert "outside the crawl's scope" in partner.error


async def test_robots_txt_is_obeyed(site: CrawlSite, full: FullMap) -> None:
    mapper = full.mapper
    assert [target for target in full.hits if "/private/secret" in target or "sort=" in target] == []
    assert [target for target in full.hits if "/cart" in target] == []
    assert full.hits["/private/press"] == 1  # an Allow inside a Disallow
    assert site.url("/private/secret") in mapper.report.disallowed
    assert mapper.report.robots[site.origin].startswith("read")
    assert [name for name, reason in mapper.report.sitemaps_skipped] == [
        site.url("/sitemaps/broken.xml"),
        site.url("/sitemaps/gone.xml"),
    ]


async def test_robots_txt_can_be_ignored_on_request(site: CrawlSite) -> None:
    await mapped(site, MapOptions(limit=120, concurrency=8, respect_robots=False))
    assert fetched(site, "/private/secret") == ["/private/secret"]
    assert fetched(site, "sort=price")
    assert site.outside_hits == 0


async def test_include_and_exclude_choose_the_pages(site: CrawlSite) -> None:
    options = MapOptions(
        limit=400,
        concurrency=8,
        include=("**/products/**", "**/category/**"),
        exclude=("**/category/audio*",),
    )
    pages, _ = await mapped(site, options)
    urls = {page.url for page in pages}
    assert site.url("/") in urls  # the start page itself
    assert not [url for url in urls if "/events" in url or "/about" in url or "/category/audio" in url]
    # Products are still all found: through the other categories, their related links and the sitemap.
    assert set(site.product_urls()) <= urls
    assert not fetched(site, "/category/audio")
    assert not fetched(site, "/events")


async def test_a_failing_links_of_fails_only_its_page(site: CrawlSite) -> None:
    def wrap(links_of: LinksOf) -> LinksOf:
        async def flaky(url: str) -> PageLinks:
            if url.endswith("/about"):
                raise RuntimeError("the tab crashed")
            return await links_of(url)

        return flaky

    pages, _ = await mapped(site, MapOptions(limit=50), wrap)
    (about,) = [page for page in pages if page.url == site.url("/about")]
    assert about.error == "RuntimeError: the tab crashed"
    assert len(pages) == 50


async def test_closing_the_map_early_stops_its_visits(site: CrawlSite) -> None:
    site.hits.clear()
    async with Fetcher() as fetcher:
        links_of = StaticLinks(fetcher)
        async with contextlib.aclosing(
            map_site(site.url("/"), links_of, MapOptions(limit=400), fetcher=fetcher)
        ) as it:
            pages = []
            async for page in it:
                pages.append(page)
                if len(pages) == 5:
                    break
        settled = sum(site.hits.values())
        # robots.txt, 6 sitemap files, 5 pages and at most the 4 visits in flight.
        assert settled <= 1 + 6 + 5 + 4
        assert sum(site.hits.values()) == settled


async def test_a_start_url_must_be_a_web_url() -> None:
    with pytest.raises(ValueError, match="only http"):
        SiteMapper("ftp://files.example/")
