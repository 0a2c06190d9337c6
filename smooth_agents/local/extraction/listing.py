"""Whether a page lists many products (a category, search results) rather than showing one.

On a listing every price, stock state and code belongs to one of its cards; none is the page's
own, so an object asked of the page as a whole takes none of them (a list schema still gets the
cards). The signals hold across shops:

- structured data that describes a list: a node typed ItemList, CollectionPage, SearchResultsPage
  or OfferCatalog with items, or three or more products of different names side by side;
- repeated cards: three or more similar siblings, most with a link and a price of their own, while
  no price on the page stands outside them (a product page shows its own price beside the
  related products' cards). Cards in a carousel or slider are a product page's "related
  products", and siblings holding the main heading are the sections of one page, not cards.

Anything a product page declares about itself (one product in its structured data, or one named
as its main heading or in its title, ``og:type`` product, ``product:price`` meta tags) outranks
both: such a page is never a listing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import lxml.html

from .currency import currency_of_price

_LIST_TYPES = frozenset({"itemlist", "collectionpage", "searchresultspage", "offercatalog"})
_PRODUCT_TYPES = frozenset({"product", "productgroup", "productmodel", "individualproduct", "vehicle", "car"})
_MIN_CARDS = 3
_MAX_PRICE_TEXT = 40  # a price element's text: "1 299,00 € / piece", never a paragraph
_PRICE_KEY = re.compile(r"(?i)price|prix|preis|precio|prezzo|preco|preço|cena|цена")
_DIGIT = re.compile(r"\d")
_SLIDER = re.compile(r"(?i)carousel|slider|swiper|slick|splide|glide|owl-")


def type_names(node: Mapping[str, Any]) -> set[str]:
    """A structured data node's types, lower-cased, without the vocabulary's address."""
    value = node.get("@type", "")
    names = value if isinstance(value, list) else [value]
    return {str(name).rstrip("/").rsplit("/", 1)[-1].lower() for name in names if name}


def is_product_node(node: Mapping[str, Any]) -> bool:
    return bool(type_names(node) & _PRODUCT_TYPES)


def declares_one_product(
    nodes: Iterable[Mapping[str, Any]], meta: Mapping[str, Any], heading: str, title: str
) -> bool:
    """The page says it is about one product: one or two distinct product names, one of them its
    main heading or in its title (the rest are related products), or its meta tags."""
    og_type = str(meta.get("og:type", "")).lower()
    if "product" in og_type or any(key in meta for key in ("product:price:amount", "og:price:amount")):
        return True
    names = _product_names(nodes)
    if 1 <= len(names) <= 2:  # a product and its variants share a name or two
        return True
    heading, title = _squashed(heading), _squashed(title)
    return any(name == heading or (len(name) >= 8 and name in title) for name in names)


def _squashed(text: str) -> str:
    return " ".join(text.lower().split())


def structured_listing(nodes: Iterable[Mapping[str, Any]]) -> bool:
    """Structured data describing a list of things, or three or more differently named products."""
    nodes = list(nodes)
    if len(_product_names(nodes)) >= _MIN_CARDS:
        return True
    for node in nodes:
        if type_names(node) & _LIST_TYPES:
            return True
        main = node.get("mainEntity")
        if isinstance(main, Mapping) and type_names(main) & _LIST_TYPES and _has_items(main):
            return True
    return False


def _has_items(node: Mapping[str, Any]) -> bool:
    items = node.get("itemListElement") or node.get("numberOfItems")
    return bool(items)


def _product_names(nodes: Iterable[Mapping[str, Any]]) -> set[str]:
    names = set()
    for node in nodes:
        if is_product_node(node):
            name = node.get("name")
            names.add(_squashed(name) if isinstance(name, str) else repr(sorted(node)))
    return names


def listing_cards(
    sets: Iterable[tuple[lxml.html.HtmlElement, list[lxml.html.HtmlElement]]],
    content: Iterable[lxml.html.HtmlElement],
) -> tuple[set[lxml.html.HtmlElement], bool]:
    """The page's product cards, and whether every price on the page lies inside one of them.

    Cards: three or more similar siblings (``sets``), most with a link and a price of their own.
    ``content`` is the page's elements outside site chrome, in document order.
    """
    priced = _priced_elements(content)
    if not priced:
        return set(), False
    holding = {node for element in priced for node in _self_and_ancestors(element)}
    cards: set[lxml.html.HtmlElement] = set()
    for parent, members in sets:
        if _sliding(parent) or any(_has_main_heading(m) for m in members):
            continue
        with_price = [m for m in members if m in holding and _has_link(m)]
        # Nearly every card of a listing has its price: a few priced among many is something else.
        if len(with_price) >= _MIN_CARDS and len(with_price) >= 0.6 * len(members):
            cards.update(members)
    if not cards:
        return cards, False
    return cards, all(any(node in cards for node in _self_and_ancestors(element)) for element in priced)


def _sliding(parent: lxml.html.HtmlElement) -> bool:
    """Inside a carousel or slider: the related products a product page shows, not a listing's grid."""
    for element in [parent, *parent.iterancestors()][:4]:
        if _SLIDER.search(" ".join((element.get("class", ""), element.get("id", "")))):
            return True
    return False


def _has_main_heading(member: lxml.html.HtmlElement) -> bool:
    """Sections of one page built alike (the product, its details, its reviews) are not cards."""
    return member.tag == "h1" or member.find(".//h1") is not None


def _has_link(element: lxml.html.HtmlElement) -> bool:
    return bool(element.get("href")) if element.tag == "a" else element.find(".//a[@href]") is not None


def _priced_elements(content: Iterable[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    """Elements whose own text is a price: a number beside a currency, or a number keyed as a price."""
    found = []
    for element in content:
        own = " ".join(
            part for part in [element.text or "", *(child.tail or "" for child in element)] if part.strip()
        )
        if own and _DIGIT.search(own) and len(own) <= _MAX_PRICE_TEXT and currency_of_price(own):
            found.append(element)
            continue
        keys = " ".join(element.get(name, "") for name in ("class", "id", "itemprop"))
        if keys and _PRICE_KEY.search(keys):
            text = element.text_content().strip()
            if text and len(text) <= _MAX_PRICE_TEXT and _DIGIT.search(text):
                found.append(element)
    return found


def _self_and_ancestors(element: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    yield element
    yield from element.iterancestors()
