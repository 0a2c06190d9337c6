"""A listing (category, search results) yields no product's price, and a product page still does.

The pages are served on 127.0.0.1: the generated shop's category and product pages
(tests/crawl_site.py) and small pages written here in the shapes listings take (cards with
microdata, a JSON-LD ItemList, a grid of cards) beside product pages that carry the same shapes
as "related products". Each is read over HTTP and extracted as the server does, and the shop's
pages once more through the local server's browser sessions, as a crawl extracts them.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from smooth_agents import AsyncSmoothClient
from smooth_agents.crawl.results import PageResult
from smooth_agents.local import ThreadedServer
from smooth_agents.local.extraction import ExtractionError, extract_structured
from tests.crawl_site import CrawlSite
from tests.helpers import API_KEY, AppServer

PRODUCT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "number"},
        "currency": {"type": "string"},
        "sku": {"type": "string"},
        "availability": {"type": "string", "enum": ["InStock", "OutOfStock"]},
    },
}
PRICED_PRODUCT: dict[str, Any] = {**PRODUCT, "required": ["name", "price"]}
CARDS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["name", "price"],
    },
}

LAMPS = [("Harbour desk lamp", "34.50"), ("Quay floor lamp", "89.00"), ("Pier wall light", "27.95")]
LAMPS += [("Jetty pendant", "112.00"), ("Dune reading lamp", "45.25")]


def _document(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><header><a href='/'>Lamps &amp; Co</a> <a href='/basket'>Basket</a></header>"
        f"<main>{body}</main><footer>Delivery from £4.95</footer></body></html>"
    )


def _card(name: str, price: str, index: int, *, microdata: bool = False) -> str:
    scope = " itemscope itemtype='https://schema.org/Product'" if microdata else ""
    offer = " itemprop='offers' itemscope itemtype='https://schema.org/Offer'" if microdata else ""
    return (
        f"<div class='product-card'{scope}><a href='/lamps/{index}'><img src='/img/{index}.jpg' alt=''>"
        f"<h3{' itemprop=name' if microdata else ''}>{name}</h3></a>"
        f"<div class='card-price'{offer}><span{' itemprop=price' if microdata else ''}>£{price}</span>"
        f"{'<meta itemprop=priceCurrency content=GBP>' if microdata else ''}</div>"
        f"<p class='stock'>In stock</p></div>"
    )


def _grid(*, microdata: bool = False) -> str:
    cards = "".join(_card(name, price, i, microdata=microdata) for i, (name, price) in enumerate(LAMPS))
    return f"<section class='product-grid'>{cards}</section>"


PAGES = {
    # A category whose cards carry microdata, one Product each.
    "/category/microdata": _document(
        "Table lamps", "<h1>Table lamps</h1><p>Warm light for every room.</p>" + _grid(microdata=True)
    ),
    # A category with plain cards and a JSON-LD ItemList of the products' addresses.
    "/category/item-list": _document(
        "Search: lamp",
        "<h1>Results for “lamp”</h1>" + _grid(),
        head="<script type='application/ld+json'>"
        + json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "ItemList",
                "itemListElement": [
                    {"@type": "ListItem", "position": i + 1, "url": f"/lamps/{i}"} for i in range(len(LAMPS))
                ],
            }
        )
        + "</script>",
    ),
    # Plain cards only: no structured data at all.
    "/category/plain": _document("Lighting", "<h1>Lighting</h1>" + _grid()),
    # A product page with a grid of related products under its own price, no structured data.
    "/lamps/harbour": _document(
        "Harbour desk lamp",
        "<h1 class='product-title'>Harbour desk lamp</h1>"
        "<div class='buy'><span class='price'>£34.50</span> <button>Add to basket</button></div>"
        "<p class='sku'>SKU: HDL-2041</p><p>In stock</p>"
        "<h2>You may also like</h2>" + _grid(),
    ),
    # A product page whose microdata marks itself and each related product alike.
    "/lamps/pier": _document(
        "Pier wall light",
        "<div itemscope itemtype='https://schema.org/Product'><h1 itemprop='name'>Pier wall light</h1>"
        "<div itemprop='offers' itemscope itemtype='https://schema.org/Offer'>"
        "<span itemprop='price' content='27.95'>£27.95</span>"
        "<meta itemprop='priceCurrency' content='GBP'></div><p itemprop='sku'>PWL-300</p></div>"
        "<h2>Customers also bought</h2>" + _grid(microdata=True),
    ),
    # A product page stating no price of its own, its related products in a carousel.
    "/lamps/unpriced": _document(
        "Quay floor lamp",
        "<h1>Quay floor lamp</h1><p class='sku'>SKU: QFL-7730</p>"
        "<p>Currently unavailable.</p><div class='carousel'>" + _grid() + "</div>",
    ),
}


async def _page(request: Request) -> Response:
    body = PAGES.get(request.url.path)
    return HTMLResponse(body) if body is not None else HTMLResponse("<h1>Not found</h1>", status_code=404)


@pytest.fixture(scope="module")
def pages() -> Iterator[AppServer]:
    with AppServer(Starlette(routes=[Route("/{path:path}", _page)])) as server:
        yield server


@pytest.fixture(scope="module")
def shop() -> Iterator[CrawlSite]:
    with CrawlSite() as served:
        yield served


def served(url: str, schema: dict[str, Any]) -> Any:
    """The page at ``url`` read over HTTP and extracted with ``schema``."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        html = answer.read().decode("utf-8")
    return extract_structured(html, schema, url=url)


def origin(server: AppServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def test_the_shops_category_pages_yield_no_product_price(shop: CrawlSite) -> None:
    for path in ("/category/kitchen", "/category/garden?page=2"):
        found = served(shop.url(path), PRODUCT)
        assert set(found) == {"name"}, found  # the category's name; no card's price, currency or sku
        with pytest.raises(ExtractionError, match="lists several products"):
            served(shop.url(path), PRICED_PRODUCT)


def test_the_shops_category_still_gives_each_card_as_a_list(shop: CrawlSite) -> None:
    cards = served(shop.url("/category/kitchen"), CARDS)
    expected = [(p.name, float(p.price)) for p in shop.shop.products if p.category == "kitchen"][: len(cards)]
    assert len(cards) >= 3
    assert [(card["name"], card["price"]) for card in cards] == expected


def test_the_shops_product_page_keeps_its_price(shop: CrawlSite) -> None:
    product = shop.shop.products[6]
    found = served(shop.url(product.path), PRODUCT)
    assert (found["name"], found["price"], found["sku"]) == (product.name, float(product.price), product.sku)


@pytest.mark.parametrize("path", ["/category/microdata", "/category/item-list", "/category/plain"])
def test_listings_in_their_usual_shapes_yield_no_product_price(pages: AppServer, path: str) -> None:
    found = served(origin(pages) + path, PRODUCT)
    assert not {"price", "currency", "sku", "availability"} & set(found), found
    assert found["name"] != LAMPS[0][0]  # the page's heading, not its first card's name
    cards = served(origin(pages) + path, CARDS)
    assert [(card["name"], card["price"]) for card in cards] == [(n, float(p)) for n, p in LAMPS]


def test_a_primitive_price_asked_of_a_listing_is_not_a_cards() -> None:
    html = PAGES["/category/plain"]
    with pytest.raises(ExtractionError):
        extract_structured(html, {"type": "number", "title": "price"}, url="http://127.0.0.1/category/plain")


def test_a_product_page_with_related_cards_keeps_its_own_price(pages: AppServer) -> None:
    found = served(origin(pages) + "/lamps/harbour", PRODUCT)
    assert (found["name"], found["price"], found["sku"]) == ("Harbour desk lamp", 34.5, "HDL-2041")


def test_a_product_marked_up_like_its_related_products_keeps_its_price(pages: AppServer) -> None:
    found = served(origin(pages) + "/lamps/pier", PRODUCT)
    assert (found["name"], found["price"], found["currency"], found["sku"]) == (
        "Pier wall light",
        27.95,
        "GBP",
        "PWL-300",
    )


def test_related_products_in_a_carousel_do_not_make_a_listing(pages: AppServer) -> None:
    found = served(origin(pages) + "/lamps/unpriced", PRODUCT)
    assert found["sku"] == "QFL-7730"  # still read as the product's page


# --- through the local server, as a crawl extracts ------------------------------------------------


@pytest.fixture
async def client(local_server: ThreadedServer) -> AsyncIterator[AsyncSmoothClient]:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
        yield smooth


async def test_a_crawl_extracting_products_fails_the_category_page_only(
    client: AsyncSmoothClient, shop: CrawlSite
) -> None:
    product = shop.shop.products[2]
    urls = [shop.url("/category/tools"), shop.url(product.path)]
    async with contextlib.aclosing(client.extract_many(urls, PRICED_PRODUCT, concurrency=1)) as pages:
        results: list[PageResult] = [page async for page in pages]
    by_url = {result.requested_url: result for result in results}
    category = by_url[urls[0]]
    assert not category.ok
    assert category.error is not None
    assert "lists several products" in category.error
    assert by_url[urls[1]].ok, by_url[urls[1]].error
    assert by_url[urls[1]].data == {
        "name": product.name,
        "price": float(product.price),
        "currency": product.currency,
        "sku": product.sku,
    }
    listing = {"type": "object", "properties": {"products": CARDS}}
    async with contextlib.aclosing(client.extract_many(urls[:1], listing, concurrency=1)) as pages:
        listed: list[PageResult] = [page async for page in pages]
    assert listed[0].ok, listed[0].error
    assert isinstance(listed[0].data, dict)
    expected = [(p.name, float(p.price)) for p in shop.shop.products if p.category == "tools"]
    assert [(card["name"], card["price"]) for card in listed[0].data["products"]] == expected[:10]
