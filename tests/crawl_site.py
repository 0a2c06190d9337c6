"""A generated shop with every trap a site map meets, served on loopback for tests and benchmarks.

``CrawlSite`` serves the shop on 127.0.0.1 and another host on 127.0.0.2 that only counts the
requests it gets (a map must send it none). Deterministic: the same pages every run.

The shop: 220 products (name, price, currency and SKU in the HTML, also as JSON-LD), 200 of them
listed in five categories of four pages each (reached through "next" links only), and 20 listed
only in a gzip sitemap under a sitemap index that also holds a nested index, a broken sitemap and
a missing one. robots.txt disallows ``/private/`` (but allows ``/private/press``), ``/cart`` and
sorted listings (``/*?sort=``), and names the sitemap index. An events calendar
(``/events?month=YYYY-MM``) links to the next and the previous month forever. Links come with
tracking parameters and fragments; ``/old/widget-7`` redirects (301) to product 7; ``/missing``
answers 404; ``/partner`` redirects to the other host, which the home page also links to.
"""

from __future__ import annotations

import gzip
import html
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from smooth_agents.local.server import bound_socket

CATEGORIES = ("kitchen", "garden", "tools", "lighting", "audio")
PER_CATEGORY = 40
PAGE_SIZE = 10
LISTED_PRODUCTS = len(CATEGORIES) * PER_CATEGORY  # 200, ids 1..200
PRODUCTS = 220  # ids 201..220 are in the sitemap only
SITEMAP_ONLY = range(LISTED_PRODUCTS + 1, PRODUCTS + 1)
CURRENCIES = ("USD", "EUR", "GBP")
_ADJECTIVES = ("Compact", "Deluxe", "Classic", "Rugged", "Silent", "Smart", "Solar", "Vintage", "Pocket")
_NOUNS = ("Kettle", "Lantern", "Trowel", "Speaker", "Drill", "Blender", "Lamp", "Hose", "Radio", "Wrench")
REDIRECTED_PRODUCT = 7
FIRST_MONTH = "2024-01"


@dataclass(frozen=True)
class Product:
    id: int

    @property
    def name(self) -> str:
        return f"{_ADJECTIVES[self.id % len(_ADJECTIVES)]} {_NOUNS[self.id % len(_NOUNS)]} {self.id}"

    @property
    def slug(self) -> str:
        return self.name.lower().replace(" ", "-")

    @property
    def path(self) -> str:
        return f"/products/{self.id}-{self.slug}"

    @property
    def price(self) -> str:
        return f"{5 + (self.id * 37) % 500}.99"

    @property
    def currency(self) -> str:
        return CURRENCIES[self.id % len(CURRENCIES)]

    @property
    def sku(self) -> str:
        return f"SKU-{self.id:05d}"

    @property
    def category(self) -> str | None:
        if self.id > LISTED_PRODUCTS:
            return None
        return CATEGORIES[(self.id - 1) // PER_CATEGORY]


@dataclass(frozen=True)
class Answer:
    """A response of the site, independent of the server that sends it."""

    status: int = 200
    body: bytes = b""
    media_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _page(title: str, body: str) -> Answer:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        "<body><nav><a href='/'>Home</a> <a href='/about#team'>About</a></nav>"
        f"<main>{body}</main></body></html>"
    )
    return Answer(body=text.encode())


def _link(href: str, text: str) -> str:
    return f"<a href='{html.escape(href, quote=True)}'>{html.escape(text)}</a>"


class Shop:
    """The shop's pages as a function of path and query (``answer``); ``outside`` is the origin of
    the other host it links to."""

    def __init__(self, outside: str) -> None:
        self.outside = outside
        self.products = [Product(i) for i in range(1, PRODUCTS + 1)]

    def answer(self, path: str, query: dict[str, str], origin: str) -> Answer:
        if path == "/":
            return self.home()
        if path == "/about":
            return _page("About us", "<h1>About us</h1><p id='team'>Our team.</p>")
        if path == "/robots.txt":
            return self.robots(origin)
        if path.startswith("/category/"):
            return self.category(path.removeprefix("/category/"), query)
        if path.startswith("/products/"):
            return self.product(path.removeprefix("/products/"))
        if path == "/events":
            return self.month(query.get("month", FIRST_MONTH))
        if path.startswith("/events/"):
            return _page("An event", f"<h1>Event {html.escape(path)}</h1>{_link('/events', 'Calendar')}")
        if path == f"/old/widget-{REDIRECTED_PRODUCT}":
            return Answer(301, headers={"location": self.products[REDIRECTED_PRODUCT - 1].path})
        if path == "/partner":
            return Answer(302, headers={"location": f"{self.outside}/welcome"})
        if path in ("/private/press", "/private/secret", "/cart"):
            return _page("Not for crawlers", f"<h1>{html.escape(path)}</h1>")
        if path.startswith(("/sitemap_index.xml", "/sitemaps/")):
            return self.sitemap(path, origin)
        return Answer(404, _page("Not found", "<h1>Not found</h1>").body)

    def home(self) -> Answer:
        links = [
            *(_link(f"/category/{c}", c.title()) for c in CATEGORIES),
            # The same pages again, spelled with tracking parameters and fragments.
            *(_link(f"/category/{c}?utm_source=home&utm_campaign=spring", c) for c in CATEGORIES),
            _link("/category/kitchen#top", "Kitchen (top)"),
            _link("/about", "About"),
            _link(f"/events?month={FIRST_MONTH}", "Events"),
            _link(f"/old/widget-{REDIRECTED_PRODUCT}", "Our classic widget"),
            _link("/missing", "A page that is gone"),
            _link("/private/secret", "Private"),
            _link("/private/press", "Press"),
            _link("/partner", "Our partner"),
            _link(f"{self.outside}/", "Another shop"),
            _link(f"{self.outside}/deals?utm_source=shop", "Deals elsewhere"),
            _link("mailto:shop@example.com", "Mail us"),
            _link("javascript:void(0)", "Menu"),
            _link("tel:+15550100", "Call us"),
        ]
        return _page("The shop", "<h1>The shop</h1><ul>" + "".join(f"<li>{a}</li>" for a in links) + "</ul>")

    def robots(self, origin: str) -> Answer:
        text = (
            "User-agent: *\n"
            "Disallow: /private/\n"
            "Allow: /private/press\n"
            "Disallow: /cart\n"
            "Disallow: /*?sort=\n"
            "\n"
            f"Sitemap: {origin}/sitemap_index.xml\n"
        )
        return Answer(body=text.encode(), media_type="text/plain")

    def category(self, name: str, query: dict[str, str]) -> Answer:
        if name not in CATEGORIES:
            return Answer(404, _page("Not found", "<h1>No such category</h1>").body)
        page = int(query.get("page", "1")) if query.get("page", "1").isdigit() else 1
        pages = PER_CATEGORY // PAGE_SIZE
        first = CATEGORIES.index(name) * PER_CATEGORY + (page - 1) * PAGE_SIZE + 1
        cards = "".join(
            f"<li>{_link(self.products[i - 1].path, self.products[i - 1].name)}"
            f" <span class='price'>{self.products[i - 1].price}</span></li>"
            for i in range(first, first + PAGE_SIZE)
            if 1 <= page <= pages
        )
        nav = [_link(f"/category/{name}?sort=price", "Sort by price")]
        if page > 1:
            nav.append(_link(f"/category/{name}" + (f"?page={page - 1}" if page > 2 else ""), "Previous"))
        if page < pages:
            nav.append(_link(f"/category/{name}?page={page + 1}", "Next"))
        return _page(
            f"{name.title()}, page {page}", f"<h1>{name.title()}</h1><ul>{cards}</ul>{' '.join(nav)}"
        )

    def product(self, rest: str) -> Answer:
        number = rest.split("-", 1)[0]
        if not number.isdigit() or not 1 <= int(number) <= PRODUCTS:
            return Answer(404, _page("Not found", "<h1>No such product</h1>").body)
        product = self.products[int(number) - 1]
        related = [self.products[(product.id + k) % PRODUCTS] for k in (1, 2)]
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": product.name,
            "sku": product.sku,
            "offers": {"@type": "Offer", "price": product.price, "priceCurrency": product.currency},
        }
        back = _link(f"/category/{product.category}", "Back") if product.category else ""
        body = (
            f"<h1 class='product-name'>{html.escape(product.name)}</h1>"
            f"<p class='price'><span class='amount'>{product.price}</span>"
            f" <span class='currency'>{product.currency}</span></p>"
            f"<p class='sku'>SKU: {product.sku}</p>"
            f"<script type='application/ld+json'>{json.dumps(data)}</script>"
            f"{back} {_link(f'/cart?add={product.id}', 'Add to cart')} "
            f"{_link(related[0].path + '?utm_source=related&utm_medium=web#reviews', related[0].name)} "
            f"{_link(related[1].path + '?fbclid=xyz&gclid=abc', related[1].name)} "
            f"{_link('/?ref_src=product', 'Shop home')}"
        )
        return _page(product.name, body)

    def month(self, month: str) -> Answer:
        try:
            year, number = (int(part) for part in month.split("-"))
        except ValueError:
            year, number = 2024, 1
        after = f"{year + number // 12}-{number % 12 + 1:02d}"
        before = f"{year - (number == 1)}-{(number - 2) % 12 + 1:02d}"
        body = (
            f"<h1>Events in {year}-{number:02d}</h1>"
            f"{_link(f'/events/{year}-{number:02d}/opening', 'Opening')} "
            f"{_link(f'/events/{year}-{number:02d}/market', 'Market')} "
            f"{_link(f'/events?month={before}', 'Previous month')} "
            f"{_link(f'/events?month={after}', 'Next month')}"
        )
        return _page(f"Events {year}-{number:02d}", body)

    def sitemap(self, path: str, origin: str) -> Answer:
        ns = "http://www.sitemaps.org/schemas/sitemap/0.9"

        def urlset(paths: list[str]) -> bytes:
            entries = "".join(f"<url><loc>{origin}{p}</loc></url>" for p in paths)
            return f"<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='{ns}'>{entries}</urlset>".encode()

        def index(paths: list[str]) -> bytes:
            entries = "".join(f"<sitemap><loc>{origin}{p}</loc></sitemap>" for p in paths)
            xml = f"<?xml version='1.0' encoding='UTF-8'?><sitemapindex xmlns='{ns}'>{entries}</sitemapindex>"
            return xml.encode()

        if path == "/sitemap_index.xml":
            children = [
                "/sitemaps/products.xml.gz",
                "/sitemaps/more.xml",
                "/sitemaps/broken.xml",
                "/sitemaps/gone.xml",
            ]
            return Answer(body=index(children), media_type="application/xml")
        if path == "/sitemaps/products.xml.gz":
            # The last products of the catalogue: some listed in categories too, 20 nowhere else.
            paths = [p.path for p in self.products[PRODUCTS - 40 :]]
            return Answer(body=gzip.compress(urlset(paths), mtime=0), media_type="application/gzip")
        if path == "/sitemaps/more.xml":
            return Answer(body=index(["/sitemaps/pages.xml"]), media_type="application/xml")
        if path == "/sitemaps/pages.xml":
            return Answer(
                body=urlset(["/", "/about", *(f"/category/{c}" for c in CATEGORIES)]),
                media_type="application/xml",
            )
        if path == "/sitemaps/broken.xml":
            return Answer(
                body=b"<?xml version='1.0'?><urlset><url><loc>http://x/</loc></url",
                media_type="application/xml",
            )
        return Answer(404, b"not found", media_type="text/plain")


class _CountingApp:
    """An ASGI app over an answer function, counting the requests it gets by path and query."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        with self._lock:
            self.hits[target] += 1
        origin = f"{request.url.scheme}://{request.url.netloc}"
        found: Answer = self.answer(request.url.path, dict(request.query_params), origin)
        response = Response(found.body, found.status, headers=found.headers, media_type=found.media_type)
        await response(scope, receive, send)


class _Served:
    """An ASGI app served by uvicorn on a thread, on a socket bound here (no port race)."""

    def __init__(self, app: Any, host: str) -> None:
        self.host = host
        self._socket = bound_socket(host)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
        self._thread = threading.Thread(target=lambda: self._server.run(sockets=[self._socket]), daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()
        while not self._server.started:
            assert self._thread.is_alive(), "server thread died while starting"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


class CrawlSite:
    """The shop on 127.0.0.1 and the outside host on 127.0.0.2, for a ``with`` block.

    ``hits`` counts the shop's requests by path and query; ``outside_hits`` the other host's.
    """

    def __init__(self) -> None:
        self._outside_app = _CountingApp(self._outside_answer)
        self._outside = _Served(self._outside_app, "127.0.0.2")
        self.shop = Shop(self._outside.origin)
        self._shop_app = _CountingApp(self.shop.answer)
        self._served = _Served(self._shop_app, "127.0.0.1")

    @staticmethod
    def _outside_answer(path: str, query: dict[str, str], origin: str) -> Answer:
        return _page("Elsewhere", f"<h1>Another site</h1>{_link('/more', 'More')}")

    @property
    def origin(self) -> str:
        return self._served.origin

    def url(self, path: str = "/") -> str:
        return self.origin + path

    @property
    def hits(self) -> Counter[str]:
        return self._shop_app.hits

    @property
    def outside_hits(self) -> int:
        return sum(self._outside_app.hits.values())

    def product_urls(self) -> dict[str, Product]:
        """Each product's canonical URL, as a map reports it."""
        return {self.url(p.path): p for p in self.shop.products}

    def __enter__(self) -> CrawlSite:
        self._outside.start()
        self._served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop()
        self._outside.stop()
