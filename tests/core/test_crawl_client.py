"""The client's map, crawl and extract_many: the generated shop (tests/crawl_site.py) read through
browser sessions of the local server (real Chromium), and their blocking twins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from smooth_agents import AsyncSmoothClient, AuthenticationError, SmoothClient
from smooth_agents.crawl import MappedPage
from smooth_agents.crawl.results import PageResult
from smooth_agents.local import ThreadedServer
from smooth_agents.local.server import free_port
from tests.crawl_site import REDIRECTED_PRODUCT, SITEMAP_ONLY, CrawlSite
from tests.helpers import API_KEY, make_settings

PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "number"},
        "currency": {"type": "string"},
        "sku": {"type": "string"},
    },
    "required": ["name", "price"],
}


class Product(BaseModel):
    name: str
    price: float
    sku: str


@pytest.fixture(scope="module")
def shop() -> Iterator[CrawlSite]:
    with CrawlSite() as served:
        yield served


async def collect(pages: AsyncIterator[Any]) -> list[Any]:
    async with contextlib.aclosing(pages) as iterator:  # type: ignore[type-var]
        return [page async for page in iterator]


async def active_sessions(client: AsyncSmoothClient) -> set[str]:
    return {task.id for task in await client.list_tasks() if task.status in ("waiting", "running")}


async def test_map_finds_every_product_and_never_touches_the_other_host(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    shop.hits.clear()
    outside_before = shop.outside_hits
    pages: list[MappedPage] = await collect(
        client.map(shop.url("/"), limit=300, include=["**/products/**", "**/category/**"])
    )
    products = shop.product_urls()
    found = {page.url for page in pages if page.ok}
    assert set(products) <= found  # all 220, the 20 only the sitemap lists too
    sitemap_only = {url for url, product in products.items() if product.id in SITEMAP_ONLY}
    assert {page.source for page in pages if page.url in sitemap_only} == {"sitemap"}
    assert len({page.url for page in pages}) == len(pages)  # tracking parameters and fragments merged
    assert shop.outside_hits == outside_before
    assert not [target for target in shop.hits if "utm_" in target or "fbclid" in target]


async def test_map_meets_the_traps_as_a_map_should(client: AsyncSmoothClient, shop: CrawlSite) -> None:
    shop.hits.clear()
    outside_before = shop.outside_hits
    pages: list[MappedPage] = await collect(client.map(shop.url("/"), limit=40, max_depth=1))
    by_requested = {page.requested_url: page for page in pages}
    assert len(pages) == 40
    moved = by_requested[shop.url(f"/old/widget-{REDIRECTED_PRODUCT}")]
    assert moved.ok
    assert moved.url == shop.url(shop.shop.products[REDIRECTED_PRODUCT - 1].path)
    assert by_requested[shop.url("/missing")].error == "HTTP 404"
    # The redirect to the other host is refused in the browser, before any request reaches it.
    partner = by_requested[shop.url("/partner")]
    assert not partner.ok
    assert "allowed_urls" in (partner.error or "")
    assert shop.outside_hits == outside_before
    # robots.txt: /private/ is disallowed, except /private/press.
    assert "/private/secret" not in shop.hits
    assert by_requested[shop.url("/private/press")].ok
    assert all(page.depth <= 1 for page in pages)


async def test_crawl_with_a_schema_gives_each_products_data(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    results: list[PageResult] = await collect(
        client.crawl(shop.url("/"), limit=14, include=["**/products/**"], response_model=PRODUCT_SCHEMA)
    )
    products = shop.product_urls()
    read = [result for result in results if result.url in products]
    assert len(read) >= 10
    for result in read:
        product = products[result.url]
        assert result.ok, result.error
        assert result.data == {
            "name": product.name,
            "price": float(product.price),
            "currency": product.currency,
            "sku": product.sku,
        }
        assert result.title == product.name
        assert result.markdown is None


async def test_crawl_without_a_schema_reads_each_page_as_markdown(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    results: list[PageResult] = await collect(client.crawl(shop.url("/"), limit=40, max_depth=1))
    home = next(result for result in results if result.url == shop.url("/"))
    assert home.ok
    assert home.depth == 0
    assert home.markdown is not None
    assert home.markdown.startswith("# The shop")
    assert f"({shop.url('/category/kitchen')})" in home.markdown
    products = shop.product_urls()
    for result in results:
        if result.url in products:
            assert result.ok
            assert result.markdown is not None
            assert products[result.url].price in result.markdown
            assert products[result.url].sku in result.markdown
    missing = [result for result in results if result.requested_url == shop.url("/missing")]
    assert [(r.ok, r.status, r.markdown) for r in missing] == [(False, 404, None)]


async def test_extract_many_gives_each_page_its_own_failure(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    good = [shop.url(product.path) for product in shop.shop.products[:5]]
    closed_port = f"http://127.0.0.1:{free_port()}/nothing-here"
    urls = [*good[:3], shop.url("/missing"), closed_port, *good[3:]]
    results: list[PageResult] = await collect(client.extract_many(urls, Product, concurrency=3))
    assert sorted(r.requested_url for r in results) == sorted(urls)
    by_url = {result.requested_url: result for result in results}
    for url, product in zip(good, shop.shop.products[:5], strict=True):
        result = by_url[url]
        assert result.ok, result.error
        assert result.data == Product(name=product.name, price=float(product.price), sku=product.sku)
        assert result.depth is None
    assert not by_url[shop.url("/missing")].ok
    assert by_url[shop.url("/missing")].status == 404
    assert not by_url[closed_port].ok
    assert by_url[closed_port].error


async def test_closing_early_closes_every_session_it_opened(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    before = await active_sessions(client)
    seen: list[PageResult] = []
    async with contextlib.aclosing(client.crawl(shop.url("/"), limit=100, concurrency=3)) as pages:
        async for page in pages:
            seen.append(page)
            if len(seen) == 3:
                break
    assert len(seen) == 3
    assert await active_sessions(client) == before


async def test_cancelling_the_consumer_closes_the_sessions(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    before = await active_sessions(client)
    started = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(client.map(shop.url("/"), limit=200, concurrency=2)) as pages:
            async for _ in pages:
                started.set()

    consumer = asyncio.ensure_future(consume())
    await asyncio.wait_for(started.wait(), 60)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert await active_sessions(client) == before


async def test_no_more_sessions_at_once_than_the_concurrency(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    before = await active_sessions(client)
    most = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, len(await active_sessions(client) - before))
            await asyncio.sleep(0.02)

    sampler = asyncio.ensure_future(sample())
    try:
        pages = await collect(client.map(shop.url("/"), limit=30, concurrency=2))
    finally:
        done.set()
        await sampler
    assert len(pages) == 30
    assert 1 <= most <= 2


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A local server that opens two sessions at most."""
    settings = make_settings(Path(tmp_path_factory.mktemp("crowded")), max_concurrent_sessions=2)
    with ThreadedServer(settings) as server:
        yield server


async def test_a_server_refusing_more_sessions_slows_the_work_but_does_not_fail_it(
    crowded: ThreadedServer, shop: CrawlSite
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=crowded.base_url, max_retries=1) as smooth:
        assert smooth._http is not None
        # Quick retries: the test is about what happens once they are spent.
        smooth._http.retry = type(smooth._http.retry)(max_retries=1, base_delay=0.01, max_delay=0.05)
        urls = [shop.url(product.path) for product in shop.shop.products[:8]]
        results: list[PageResult] = await collect(smooth.extract_many(urls, PRODUCT_SCHEMA, concurrency=4))
        assert len(results) == 8
        assert all(result.ok for result in results), [r.error for r in results if not r.ok]
        assert await active_sessions(smooth) == set()


async def test_a_job_that_cannot_open_one_session_fails_as_a_whole(
    local_server: ThreadedServer, shop: CrawlSite
) -> None:
    async with AsyncSmoothClient(api_key="sk-wrong-key", base_url=local_server.base_url) as smooth:
        with pytest.raises(AuthenticationError):
            await collect(smooth.map(shop.url("/"), limit=5))
        with pytest.raises(AuthenticationError):
            await collect(smooth.extract_many([shop.url("/")], PRODUCT_SCHEMA))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.map("ftp://example.com/"), "only http and https"),
        (lambda c: c.map("https://example.com/", limit=0), "limit"),
        (lambda c: c.map("https://example.com/", include="**/products/**"), "lists of URL globs"),
        (lambda c: c.crawl("https://example.com/", concurrency=0), "concurrency"),
        (lambda c: c.crawl("https://example.com/", response_model={"type": "array"}), "an object"),
        (lambda c: c.extract_many([], PRODUCT_SCHEMA), "empty"),
        (lambda c: c.extract_many(["https://ok.example/", "not a url"], PRODUCT_SCHEMA), "not a url"),
        (lambda c: c.extract_many(["https://ok.example/"], {"type": "object", "required": 3}), "Invalid"),
    ],
)
async def test_bad_input_is_refused_at_the_call(call: Any, message: str) -> None:
    client = AsyncSmoothClient(api_key=API_KEY, base_url="http://127.0.0.1:1/api/")
    with pytest.raises((ValueError, TypeError), match=message):
        call(client)
    assert client._http is None  # nothing was opened


def test_the_blocking_twins(local_server: ThreadedServer, shop: CrawlSite) -> None:
    with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        pages = list(client.map(shop.url("/"), limit=8))
        assert len(pages) == 8
        assert all(isinstance(page, MappedPage) for page in pages)
        urls = [shop.url(product.path) for product in shop.shop.products[:3]]
        data = {result.requested_url: result.data for result in client.extract_many(urls, Product)}
        assert data[urls[0]] == Product(
            name=shop.shop.products[0].name, price=float(shop.shop.products[0].price), sku="SKU-00001"
        )
        with pytest.raises(ValueError, match="limit"):
            client.crawl(shop.url("/"), limit=0)
        crawl = client.crawl(shop.url("/"), limit=50)
        first = next(crawl)
        assert first.ok
        assert first.markdown
        crawl.close()  # stops the crawl and closes its sessions
        running = [t for t in client.list_tasks() if t.status in ("waiting", "running")]
        assert running == []
