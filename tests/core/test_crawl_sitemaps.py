"""Sitemaps: urlsets, indexes, gzip, plain text; bad ones skipped, never fatal; no DTDs."""

from __future__ import annotations

import gzip

import httpx2
import pytest

from smooth_agents.crawl import Fetcher, SitemapError, parse_sitemap, read_sitemaps
from smooth_agents.crawl.sitemaps import MAX_URLS_PER_SITEMAP
from tests.crawl_site import PRODUCTS, CrawlSite

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://shop.example/a </loc><lastmod>2024-01-01</lastmod>
    <image:image><image:loc>https://cdn.example/a.jpg</image:loc></image:image></url>
  <url><loc>https://shop.example/b?x=1&amp;y=2</loc></url>
</urlset>""".encode()
INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{NS}"><sitemap><loc>https://shop.example/s1.xml</loc></sitemap></sitemapindex>""".encode()


def test_a_urlset_lists_its_pages_only() -> None:
    sitemap = parse_sitemap(URLSET)
    assert sitemap.kind == "urlset"
    # Images inside an entry are not pages; entities are decoded, spaces trimmed.
    assert sitemap.locs == ("https://shop.example/a", "https://shop.example/b?x=1&y=2")


def test_an_index_lists_sitemaps() -> None:
    assert parse_sitemap(INDEX).kind == "index"
    assert parse_sitemap(INDEX).locs == ("https://shop.example/s1.xml",)


def test_gzip_and_plain_text_sitemaps() -> None:
    assert parse_sitemap(gzip.compress(URLSET)).locs == parse_sitemap(URLSET).locs
    text = b"https://shop.example/a\nhttps://shop.example/b\n\nnot a url\n"
    assert parse_sitemap(text).locs == ("https://shop.example/a", "https://shop.example/b")


@pytest.mark.parametrize(
    "data",
    [
        b"<urlset><url><loc>https://x/</loc></url",  # cut off
        b"<html><body>Not found</body></html>",  # a page served in place of the sitemap
        b"",
        b"\x1f\x8b not really gzip",
    ],
)
def test_bad_sitemaps_raise_sitemap_errors(data: bytes) -> None:
    with pytest.raises(SitemapError):
        parse_sitemap(data)


@pytest.mark.parametrize(
    "data",
    [
        # An external entity (XXE) would read a local file into the URLs.
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY f SYSTEM "file:///etc/passwd">]>'
        b"<urlset><url><loc>&f;</loc></url></urlset>",
        # Entities that expand to gigabytes (billion laughs).
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<urlset><url><loc>&b;</loc></url></urlset>",
    ],
)
def test_dtds_are_refused(data: bytes) -> None:
    with pytest.raises(SitemapError, match="DTD"):
        parse_sitemap(data)


def test_a_gzip_bomb_stops_at_the_bound() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    assert len(bomb) < 10_000
    with pytest.raises(SitemapError, match="decompressed"):
        parse_sitemap(bomb, max_bytes=1_000_000)


def test_one_sitemap_gives_at_most_the_protocols_number_of_urls() -> None:
    entries = b"".join(
        b"<url><loc>https://s.example/%d</loc></url>" % i for i in range(MAX_URLS_PER_SITEMAP + 5)
    )
    assert len(parse_sitemap(b"<urlset>" + entries + b"</urlset>").locs) == MAX_URLS_PER_SITEMAP


async def test_a_sites_index_is_followed_and_bad_sitemaps_are_skipped() -> None:
    with CrawlSite() as site:
        async with Fetcher() as fetcher:
            found = await read_sitemaps(fetcher, [site.url("/sitemap_index.xml")])
    assert found.read == [
        site.url("/sitemap_index.xml"),
        site.url("/sitemaps/products.xml.gz"),
        site.url("/sitemaps/more.xml"),
        site.url("/sitemaps/pages.xml"),  # nested one index deeper
    ]
    skipped = dict(found.skipped)
    assert "bad XML" in skipped[site.url("/sitemaps/broken.xml")]
    assert skipped[site.url("/sitemaps/gone.xml")] == "HTTP 404"
    products = [url for url in found.urls if "/products/" in url]
    assert len(products) == 40
    assert products[-1].startswith(site.url(f"/products/{PRODUCTS}-"))
    assert site.url("/about") in found.urls


async def test_sitemap_bounds_depth_count_and_scope() -> None:
    with CrawlSite() as site:
        async with Fetcher() as fetcher:
            shallow = await read_sitemaps(fetcher, [site.url("/sitemap_index.xml")], max_depth=1)
            few = await read_sitemaps(fetcher, [site.url("/sitemap_index.xml")], max_sitemaps=2)
            outside = await read_sitemaps(fetcher, [site.url("/sitemap_index.xml")], allow=lambda url: False)
    assert site.url("/sitemaps/pages.xml") not in shallow.read
    assert (site.url("/sitemaps/pages.xml"), "sitemap indexes nested deeper than 1") in shallow.skipped
    assert len(few.read) == 2
    assert outside.read == []
    assert outside.urls == []


async def test_an_unreachable_sitemap_is_skipped() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("too slow", request=request)

    async with Fetcher(transport=httpx2.MockTransport(refuse)) as fetcher:
        found = await read_sitemaps(fetcher, ["https://shop.example/sitemap.xml"])
    assert found.urls == []
    assert "ReadTimeout" in found.skipped[0][1]
