"""Where values come from: JSON-LD, microdata, meta tags, the document, labels, tables and repeated records.

Every source is reduced to plain records (nested dicts of strings) so one matcher serves them all.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from .listing import declares_one_product, is_product_node, listing_cards, structured_listing
from .matching import tokens
from .numbers import NumberStyle
from .tidy import site_names

# Lower is more trusted: structured data the site publishes beats guesses from markup.
TRUST_JSON_LD = 0
TRUST_MICRODATA = 1
TRUST_META = 2
TRUST_DOCUMENT = 3
TRUST_LABELS = 4
TRUST_TABLE = 4
TRUST_PAGE = 5
TRUST_SIBLINGS = 5
TRUST_CHROME = 6

_IGNORED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_CHROME_TAGS = frozenset({"nav", "footer", "aside", "form", "header"})
_CONTENT_TAGS = frozenset({"article", "main"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LABELLED_TEXT = re.compile(r"^\s*([^:\n]{1,40}):\s+(\S.{0,200}?)\s*$", re.DOTALL)
# Direction marks sites put around a label's colon ("ASIN \u200f : \u200e B07...").
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")
_MIN_RECORDS = 3


@dataclass
class Record:
    source: str
    trust: int
    data: dict[str, Any]


@dataclass
class RecordSet:
    source: str
    trust: int
    records: list[Record]
    label: str = ""  # words about the container (class names, @type) for prompt tie-breaks
    extra: dict[str, Any] = field(default_factory=dict)


class Page:
    """A parsed page and the records each source yields."""

    def __init__(self, html: str, url: str | None = None) -> None:
        root = lxml.html.document_fromstring(html)
        assert isinstance(root, lxml.html.HtmlElement)  # the HTML parser builds nothing else at the root
        self.root = root
        base = self.root.xpath("string(//base/@href)")
        self.base_url = url or (str(base) if base else None)
        self.json_ld = list(_json_ld_nodes(self.root))

    @functools.cached_property
    def own_url(self) -> str | None:
        """The address the page gives itself (canonical link, og:url), else the one it was read from."""
        declared = self.root.xpath(
            "string((//link[@rel='canonical']/@href | //meta[@property='og:url']/@content)[1])"
        )
        return str(declared).strip() or self.base_url

    @functools.cached_property
    def brand_link(self) -> str | None:
        """A maker's name linked to its page just over the main heading, if the page sets one."""
        main = next(self.root.iter("h1"), None)
        return _brand_link_before(main) if main is not None else None

    @functools.cached_property
    def site_names(self) -> list[str]:
        """Names the site goes by, squashed: for stripping them from titles."""
        declared = self.root.xpath(
            "//meta[@property='og:site_name' or @name='application-name'"
            " or @name='apple-mobile-web-app-title']"
            "/@content"
        )
        return site_names([str(name) for name in declared], self.own_url)

    @functools.cached_property
    def language(self) -> str | None:
        """The language the page declares ("de-CH", "en_GB"), if any."""
        language = self.root.get("lang") or self.root.get("xml:lang")
        if not language:
            language = self.root.xpath(
                "string(//meta[@property='og:locale']/@content"
                " | //meta[translate(@http-equiv, 'CONTENT-LANGUAGE', 'content-language')"
                " = 'content-language']/@content)"
            )
        return str(language or "").strip() or None

    @functools.cached_property
    def number_style(self) -> NumberStyle:
        """How the page writes numbers: by its declared language and the currency of its prices."""
        return NumberStyle.of(self.language, self.declared_currency)

    @functools.cached_property
    def declared_currency(self) -> str | None:
        """The ISO code the page's structured data or meta tags give its prices, if any."""
        for node in self.json_ld:
            code = _find_key(node, "priceCurrency")
            if code:
                return code
        code = self.root.xpath(
            "string((//*[@itemprop='priceCurrency']/@content"
            " | //meta[@property='product:price:currency' or @property='og:price:currency']/@content)[1])"
        )
        return str(code).strip() or None

    @functools.cached_property
    def is_listing(self) -> bool:
        """The page lists many products (a category, search results) and shows none as its own."""
        nodes = [*self.json_ld, *self._microdata]
        heading = next((text_of(h) for h in self.root.iter("h1")), "")
        if declares_one_product(nodes, self._meta, heading, self.root.findtext(".//title") or ""):
            return False
        return structured_listing(nodes) or self._cards[1]

    @functools.cached_property
    def _cards(self) -> tuple[set[lxml.html.HtmlElement], bool]:
        # A product's own price often sits in its form (the buy box): only navigation, header,
        # footer and sidebars are left out.
        content = _content_elements(self._body(), skip_chrome=True, chrome=_CHROME_TAGS - {"form"})
        return listing_cards(self._repeated, content)

    def page_records(self) -> list[Record]:
        """Records that describe the page as a whole: on a listing, none of its cards."""
        if not self.is_listing:
            return self._single_records
        cards = self._cards[0] | {
            scope
            for scope in self.root.xpath("//*[@itemscope][not(ancestor::*[@itemscope])]")
            if is_product_node(_microdata_item(scope))
        }
        records = [
            r for r in self._single_records if not is_product_node(r.data) and r.source != "page markup"
        ]
        markup = element_record(self._body(), skip_chrome=True, skip=frozenset(cards))
        return records + ([Record("page markup", TRUST_PAGE, markup)] if markup else [])

    @functools.cached_property
    def _microdata(self) -> list[dict[str, Any]]:
        return _microdata_items(self.root)

    @functools.cached_property
    def _meta(self) -> dict[str, Any]:
        return _meta_record(self.root)

    @functools.cached_property
    def _repeated(self) -> list[tuple[lxml.html.HtmlElement, list[lxml.html.HtmlElement]]]:
        return repeated_siblings(self._body())

    @functools.cached_property
    def _single_records(self) -> list[Record]:
        records = [Record("json-ld", TRUST_JSON_LD, node) for node in self.json_ld]
        records += [Record("microdata", TRUST_MICRODATA, item) for item in self._microdata]
        records.append(Record("meta tags", TRUST_META, self._meta))
        records.append(Record("title and headings", TRUST_DOCUMENT, self._document_record()))
        records.append(Record("labelled values", TRUST_LABELS, _labelled_values(self.root)))
        records.append(Record("page markup", TRUST_PAGE, element_record(self._body(), skip_chrome=True)))
        return [r for r in records if r.data]

    def single_records(self) -> list[Record]:
        """Records that describe the page as one thing, most trusted first."""
        return self._single_records

    @functools.cached_property
    def _record_sets(self) -> list[RecordSet]:
        sets = list(_json_ld_sets(self.json_ld))
        sets += _microdata_sets(self.root)
        sets += [s for s in (_table_records(t) for t in self.root.iter("table")) if s is not None]
        sets += _sibling_sets(self._repeated)
        return sets

    def record_sets(self) -> list[RecordSet]:
        """Groups of similar records (lists, tables, cards), most trusted first."""
        return self._record_sets

    @functools.cached_property
    def visible_text(self) -> str:
        """The text a reader sees (no scripts, styles or attributes), whitespace squashed."""
        parts = self._body().xpath(
            ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
        )
        return squash(" ".join(str(part) for part in parts))

    def _body(self) -> lxml.html.HtmlElement:
        body = self.root.find("body")
        return body if body is not None else self.root

    def _document_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {}
        # The main heading names the page's subject; <title> adds the site's name, so it comes second.
        h1 = next((text_of(h) for h in self.root.iter("h1")), "")
        if h1:
            record["heading"] = h1
        title = squash(self.root.findtext(".//title") or "")
        if title:
            record["title"] = title
        headings = [text_of(h) for h in self.root.iter("h1", "h2", "h3") if not _in_chrome(h)]
        headings = [h for h in headings if h]
        if headings:
            record["headings"] = headings
        canonical = self.root.xpath("string(//link[@rel='canonical']/@href)")
        if canonical or self.base_url:
            record["url"] = str(canonical) or self.base_url
        for container in ("article", "main"):
            element = next(self.root.iter(container), None)
            if element is not None:
                record["article body"] = text_of(element)
                break
        return record


def _brand_link_before(heading: lxml.html.HtmlElement) -> str | None:
    """The maker's name set over the product's name as a link to its page ("<a href="/superdry/">
    Superdry</a><h1>Puffer jacket</h1>"): the nearest link before the main heading, in the same
    block, whose text is the last part of its own address. Breadcrumbs and menus are not it."""
    block = heading.getparent()
    for _ in range(3):
        if block is None:
            return None
        before = []
        for element in block.iter():
            if element is heading:
                break
            if element.tag == "a" and element.get("href"):
                before.append(element)
        if before:
            link = before[-1]
            if len(before) > 2 or any(_is_trail(e) for e in (link, *link.iterancestors())):
                return None
            text = text_of(link)
            segments = [part for part in urlsplit(link.get("href", "")).path.split("/") if part]
            if text and len(text) <= 40 and segments and _slug(text) == _slug(segments[-1].rsplit(".", 1)[0]):
                return text
            return None
        block = block.getparent()
    return None


def _is_trail(element: lxml.html.HtmlElement) -> bool:
    names = f"{element.get('class', '')} {element.get('id', '')} {element.get('aria-label', '')}".lower()
    return element.tag in ("nav", "ol", "header") or "breadcrumb" in names or "menu" in names


def _slug(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def squash(text: str) -> str:
    return " ".join(text.split())


def text_of(element: etree._Element) -> str:
    """Visible text of an element, whitespace collapsed."""
    return squash("".join(str(part) for part in element.itertext()))


def _find_key(data: Any, key: str, depth: int = 0) -> str | None:
    """The first string under ``key`` anywhere in a JSON-LD node (depth-bounded)."""
    if depth > 6:
        return None
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        children: Any = data.values()
    elif isinstance(data, list):
        children = data
    else:
        return None
    for child in children:
        found = _find_key(child, key, depth + 1)
        if found:
            return found
    return None


# --- JSON-LD -------------------------------------------------------------------------------


def _json_ld_nodes(root: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = (script.text or "").strip().removeprefix("<!--").removesuffix("-->")
        try:
            data = json.loads(text, strict=False)  # strict=False: sites leave raw newlines in strings
        except ValueError:
            continue  # a broken block must not hide the others
        yield from _top_level_nodes(data)


def _top_level_nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _top_level_nodes(item)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if isinstance(graph, list):
            yield from _top_level_nodes(graph)
        if "@type" in data or not isinstance(graph, list):
            yield data


def _json_ld_sets(nodes: list[dict[str, Any]]) -> Iterator[RecordSet]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        by_type.setdefault(_type_name(node), []).append(node)
        yield from _nested_lists(node)
    for type_name, members in by_type.items():
        if len(members) >= 2:
            records = [Record("json-ld", TRUST_JSON_LD, m) for m in members]
            yield RecordSet("JSON-LD", TRUST_JSON_LD, records, label=type_name)


def _nested_lists(node: dict[str, Any]) -> Iterator[RecordSet]:
    """ItemList elements, and any property holding several nodes (reviews, offers)."""
    for key, value in node.items():
        if not isinstance(value, list):
            continue
        items = [
            v.get("item") if isinstance(v, dict) and isinstance(v.get("item"), dict) else v for v in value
        ]
        dicts = [item for item in items if isinstance(item, dict)]
        if dicts and (len(dicts) >= 2 or key == "itemListElement"):
            records = [Record("json-ld", TRUST_JSON_LD, d) for d in dicts]
            yield RecordSet("JSON-LD", TRUST_JSON_LD, records, label=f"{_type_name(node)} {key}")


def _type_name(node: dict[str, Any]) -> str:
    value = node.get("@type", "")
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return str(value)


# --- Microdata -----------------------------------------------------------------------------


def _microdata_items(root: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    return [_microdata_item(el) for el in root.xpath("//*[@itemscope][not(ancestor::*[@itemscope])]")]


def _microdata_sets(root: lxml.html.HtmlElement) -> list[RecordSet]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for el in root.xpath("//*[@itemscope][not(@itemprop)]"):
        by_type.setdefault(el.get("itemtype", ""), []).append(_microdata_item(el))
    return [
        RecordSet(
            "microdata", TRUST_MICRODATA, [Record("microdata", TRUST_MICRODATA, i) for i in items], label=t
        )
        for t, items in by_type.items()
        if len(items) >= 2
    ]


def _microdata_item(scope: lxml.html.HtmlElement) -> dict[str, Any]:
    item: dict[str, Any] = {}
    itemtype = scope.get("itemtype")
    if itemtype:
        item["@type"] = itemtype.rstrip("/").rsplit("/", 1)[-1]
    for element in scope.iterdescendants():
        if not isinstance(element.tag, str) or element.get("itemprop") is None:
            continue
        if _nearest_scope(element) is not scope:
            continue  # belongs to a nested item
        value: Any = (
            _microdata_item(element) if element.get("itemscope") is not None else element_value(element)
        )
        for name in element.get("itemprop", "").split():
            item.setdefault(name, value)
    return item


def _nearest_scope(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors():
        if ancestor.get("itemscope") is not None:
            return ancestor
    return None


# --- Meta tags and labelled values -----------------------------------------------------------


def _meta_record(root: lxml.html.HtmlElement) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name")
        content = squash(meta.get("content") or "")
        if key and content and meta.get("itemprop") is None:
            record.setdefault(key.strip(), content)
    # Twitter's product card labels its values: twitter:label1 "Price", twitter:data1 "$19.99".
    for key in list(record):
        match = _TWITTER_LABEL.match(key)
        data = record.get(f"twitter:data{match.group(1)}") if match else None
        if data:
            record.setdefault(record[key], data)
    return record


_TWITTER_LABEL = re.compile(r"^twitter:label(\d)$")


def _labelled_values(root: lxml.html.HtmlElement) -> dict[str, Any]:
    """Values the page labels itself: th/td rows, dt/dd pairs and "Label: value" lines."""
    record: dict[str, Any] = {}
    for row in root.iter("tr"):
        cells = [c for c in row if c.tag in ("th", "td")]
        if len(cells) == 2 and (cells[0].tag == "th" or cells[1].tag == "td"):
            _set_label(record, cells[0].text_content(), cells[1].text_content())
        elif len(cells) % 2 == 0 and len(cells) > 2:
            # Specification grids: "Brand:" | Brightcell | "Type:" | Lithium in one row.
            labels = [squash(c.text_content()) for c in cells[::2]]
            if all(label.endswith(":") for label in labels):
                for label, value in zip(labels, cells[1::2], strict=True):
                    _set_label(record, label, value.text_content())
    for term in root.iter("dt"):
        definition = term.getnext()
        if definition is not None and definition.tag == "dd" and not _more_definitions(definition):
            _set_label(record, term.text_content(), definition.text_content())
    for element in root.iter("li", "p", "div", "span", *_LABEL_ONLY_TAGS):
        if len(element) <= 2:  # short runs of text only, not whole sections
            text = squash(_INVISIBLE.sub("", element.text_content()))
            match = _LABELLED_TEXT.match(text) if element.tag not in _LABEL_ONLY_TAGS else None
            # A wrapper around "Model: X" and "Code: Y" reads as "Model: XCode: Y": its children speak.
            if match and not any(_label_match(child) for child in element):
                _set_label(record, match.group(1), match.group(2))
            elif (dashed := _dash_labelled(element, text)) is not None:
                _set_label(record, *dashed)
            elif text.endswith(":") and len(text) <= 41:
                # The label alone, its value after it (<strong>Brand:</strong> ACME) or in the
                # next element (<div>Brand:</div><div>ACME</div>).
                value = element.getnext()
                if squash(element.tail or ""):
                    _set_label(record, text, element.tail or "")
                elif value is not None and isinstance(value.tag, str):
                    _set_label(record, text, value.text_content())
    return record


# Elements that hold a label whose value follows in the next element ("<h4>Order number:</h4>
# <div>106606</div>", "<strong>Brand:</strong> <span>Acme</span>"), never "label: value" lines.
_LABEL_ONLY_TAGS = ("h2", "h3", "h4", "h5", "h6", "strong", "b", "label")


_DASHES = ("-", "\u2013", "\u2014")


def _dash_labelled(element: lxml.html.HtmlElement, text: str) -> tuple[str, str] | None:
    """A label set apart in its own first element, a dash after it (in that element or after it),
    the value after that: "<li><strong>Product Code - </strong>39139301</li>"."""
    if not len(element) or squash(element.text or ""):
        return None
    first = element[0]
    if not isinstance(first.tag, str) or first.tag not in ("strong", "b", "span", "label", "em", "dt"):
        return None
    label = squash(first.text_content())
    if not 1 < len(label) <= 41 or not text.startswith(label):
        return None
    value = text[len(label) :].strip()
    if not label.endswith(_DASHES):  # "<b>Product Code</b> - 39139301"
        if not value.startswith(_DASHES):
            return None
        value = value[1:].strip()
    return (label.rstrip("".join(_DASHES)).strip(), value) if value else None


def _more_definitions(definition: lxml.html.HtmlElement) -> bool:
    """A term with several definitions heads a list (a menu's "Brands" over ten brands), not a value."""
    following = definition.getnext()
    return following is not None and following.tag == "dd"


def _label_match(element: lxml.html.HtmlElement) -> re.Match[str] | None:
    if not isinstance(element.tag, str):
        return None
    return _LABELLED_TEXT.match(squash(_INVISIBLE.sub("", element.text_content())))


def _set_label(record: dict[str, Any], label: str, value: str) -> None:
    label, value = squash(label).rstrip(":"), squash(value)
    if label and value and len(label) <= 60:
        record.setdefault(label, value)


# --- Tables --------------------------------------------------------------------------------


def _table_records(table: lxml.html.HtmlElement) -> RecordSet | None:
    rows = [r for r in table.iter("tr") if _owning_table(r) is table]
    header_index = next((i for i, r in enumerate(rows[:3]) if _is_header_row(r)), None)
    if header_index is None:
        return None
    headers = [squash(c.text_content()) for c in _cells(rows[header_index])]
    records = []
    for row in rows[header_index + 1 :]:
        cells = _cells(row)
        if len(cells) < 2 or _is_header_row(row):
            continue
        records.append(Record("table", TRUST_TABLE, _row_record(headers, cells)))
    if not records:
        return None
    label = " ".join(filter(None, [_describe(table), table.findtext("caption")]))
    return RecordSet("table", TRUST_TABLE, records, label=label)


def _owning_table(row: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    return next(row.iterancestors("table"), None)


def _cells(row: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [c for c in row if c.tag in ("th", "td")]


def _is_header_row(row: lxml.html.HtmlElement) -> bool:
    cells = _cells(row)
    in_thead = row.getparent() is not None and row.getparent().tag == "thead"
    return len(cells) >= 2 and (in_thead or all(c.tag == "th" for c in cells))


def _row_record(headers: list[str], cells: list[lxml.html.HtmlElement]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for index, cell in enumerate(cells):
        header = headers[index] if index < len(headers) and headers[index] else f"column {index + 1}"
        record[header] = squash(cell.text_content())
        link = cell.find(".//a[@href]")
        if link is not None:
            record.setdefault(f"{header} url", link.get("href"))
            record.setdefault("link", link.get("href"))
    return record


# --- Elements and repeated siblings ----------------------------------------------------------


def element_value(element: lxml.html.HtmlElement) -> str:
    """The value an element carries: content/datetime/src attributes before visible text."""
    tag = element.tag
    for attribute, tags in (
        ("content", None),
        ("datetime", ("time", "del", "ins")),
        ("src", ("img", "source", "video", "audio", "iframe")),
        ("href", ("link",)),
        ("value", ("data", "input", "meter", "option")),
    ):
        if (tags is None or tag in tags) and element.get(attribute):
            return squash(element.get(attribute, ""))
    return squash(element.text_content())


def element_record(
    container: lxml.html.HtmlElement,
    *,
    skip_chrome: bool = False,
    skip: frozenset[lxml.html.HtmlElement] = frozenset(),
) -> dict[str, Any]:
    """A record of the values inside ``container``, keyed by class, id, itemprop and rel names.

    ``skip``: elements left out with everything inside them (a listing's cards).
    """
    record: dict[str, Any] = {}
    holding_struck = _holding_struck_text(container)
    for element in _content_elements(container, skip_chrome, skip=skip):
        if element.tag == "input" and (
            element.get("type", "").strip().lower() == "hidden" or element.get("hidden") is not None
        ):
            continue  # form plumbing (a database key, a token): nothing the page shows
        keys = _element_keys(element)
        if not keys:
            continue  # reading the text of an element no key names would be wasted
        value = element_value(element)
        if element in holding_struck and len(value) <= _STRUCK_VALUE_LIMIT:
            value = _without_struck_text(element, value)
        if not value and element.tag != "img":
            value = _image_words(element)  # a maker's logo: <div class="brand"><img alt="Acme"></div>
        elif len(element) and value[-2:].isdigit():
            value = _with_split_cents(element, value)
        if not value:
            continue
        href = element.get("href") if element.tag == "a" else None
        for key in keys:
            record.setdefault(key, value)
            if href:
                record.setdefault(f"{key} url", href)
    _add_landmarks(container, record)
    return record


_SPLIT_PRICE_KEY = re.compile(r"(?i)price|amount")


def _with_split_cents(element: lxml.html.HtmlElement, value: str) -> str:
    """A price whose cents sit in their own element ("$249<sup>99</sup>") read as "$249.99"."""
    last = element[-1]
    names = " ".join(element.get(name, "") for name in ("class", "id", "itemprop"))
    if not isinstance(last.tag, str) or not _SPLIT_PRICE_KEY.search(names) or (last.tail or "").strip():
        return value
    cents = squash(last.text_content())
    whole = value[: -len(cents)] if len(cents) == 2 and cents.isdigit() and value.endswith(cents) else ""
    # "1.299<sup>00</sup>" would read both ways: only a whole part without separators is joined.
    return f"{whole}.{cents}" if whole[-1:].isdigit() and not re.search(r"[.,]", whole) else value


def _image_words(element: lxml.html.HtmlElement) -> str:
    """What the one image inside a textless element says it shows (its alt text or title)."""
    images = element.findall(".//img")
    if len(images) != 1:
        return ""
    return squash(images[0].get("alt") or "") or squash(images[0].get("title") or "")


_STRUCK_TAGS = ("s", "del", "strike")
# Class names shops give the price no longer asked, beside the current one: "old-price",
# "price--compare", "was-price", "rrp", "strikethrough" (one class token each).
_FORMER_PRICE_CLASS = re.compile(
    r"(?i)^(?:.*[-_])?(?:old|was|former|original|compare(?:[-_]?at)?|regular|before|list|rrp|uvp|msrp|strike)"
    r"[-_]*price(?:[-_].*)?$"
    r"|^(?:.*[-_])?price[-_]*(?:old|was|former|original|compare(?:[-_]?at)?|regular|before|strike)(?:[-_].*)?$"
    r"|^(?:rrp|uvp|msrp|strike|strikethrough|strike-through|line-through|crossed(?:[-_]out)?)$"
)
# Cheap test of a class attribute before its tokens are matched one by one.
_FORMER_PRICE_HINT = re.compile(r"(?i)price|rrp|uvp|msrp|strike|through|crossed")
# Prices, codes and names are short: longer values (a whole section) are read as they are.
_STRUCK_VALUE_LIMIT = 160


def _struck(element: lxml.html.HtmlElement) -> bool:
    """Struck through, or classed as the price before a discount."""
    if element.tag in _STRUCK_TAGS:
        return True
    return any(_FORMER_PRICE_CLASS.match(name) for name in element.get("class", "").split())


def _holding_struck_text(container: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """Elements with struck-through text inside (the price before a discount), found in one pass."""
    holding: set[lxml.html.HtmlElement] = set()
    for struck in container.iter():
        if not isinstance(struck.tag, str):
            continue
        if struck.tag not in _STRUCK_TAGS:
            names = struck.get("class")
            if not names or not _FORMER_PRICE_HINT.search(names) or not _struck(struck):
                continue
        for ancestor in struck.iterancestors():
            if ancestor in holding:
                break
            holding.add(ancestor)
    return holding


def _without_struck_text(element: lxml.html.HtmlElement, value: str) -> str:
    """An element's value without its struck-through parts: shops strike the price no longer asked.

    "<s>144,99</s> 131,99" reads as the current price, and so does
    "<span class=old-price>144,99</span> <span class=special-price>131,99</span>"; a value that is
    all struck stays as it is. ``value``: the element's whole value.
    """
    if element.get("content"):
        return value
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        parts.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str) and child.tag not in ("script", "style") and not _struck(child):
                walk(child)
            parts.append(child.tail or "")

    walk(element)
    kept = squash("".join(parts))
    return kept or value


def _content_elements(
    container: lxml.html.HtmlElement,
    skip_chrome: bool,
    chrome: frozenset[str] = _CHROME_TAGS,
    skip: frozenset[lxml.html.HtmlElement] = frozenset(),
) -> Iterator[lxml.html.HtmlElement]:
    """Descendants in document order, without scripts and styles and (if asked) site chrome.

    One walk that leaves out whole subtrees, instead of an ancestor check per element.
    """
    in_content = container.tag in _CONTENT_TAGS or _inside_content(container)
    if skip_chrome and _in_chrome(container):
        return
    stack = [(iter(container), in_content)]
    while stack:
        children, inside = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        tag = child.tag
        if not isinstance(tag, str) or tag in _IGNORED_TAGS:
            continue
        if skip_chrome and not inside and (tag in chrome or _named_chrome(child)):
            continue
        if skip and child in skip:
            continue
        yield child
        if len(child):
            stack.append((iter(child), inside or tag in _CONTENT_TAGS))


# Class and id words of site menus built from plain <div>s and <ul>s ("headerMenuBrand", "mega-menu").
_CHROME_WORDS = frozenset({"menu", "megamenu", "navbar", "navigation", "nav", "breadcrumb", "footer"})


def _named_chrome(element: lxml.html.HtmlElement) -> bool:
    names = f"{element.get('class', '')} {element.get('id', '')}".strip()
    return bool(names) and not _CHROME_WORDS.isdisjoint(_name_words(names))


@functools.lru_cache(maxsize=16384)
def _name_words(names: str) -> frozenset[str]:
    return frozenset(tokens(names))


def _in_chrome(element: lxml.html.HtmlElement) -> bool:
    """Inside site navigation, header, footer, sidebar or a form."""
    return any(e.tag in _CHROME_TAGS and not _inside_content(e) for e in (element, *element.iterancestors()))


def _inside_content(element: lxml.html.HtmlElement) -> bool:
    # An <article>'s own <header> holds its headline and byline, not site chrome.
    return any(a.tag in _CONTENT_TAGS for a in element.iterancestors())


def _element_keys(element: lxml.html.HtmlElement) -> list[str]:
    """Names an element gives its value: its classes, itemprop and rel words, id and name-like attributes."""
    keys = element.get("class", "").split()
    keys += element.get("itemprop", "").split() + element.get("rel", "").split()
    keys += [
        element.get(attribute, "") for attribute in ("id", "name", "data-testid", "data-field", "aria-label")
    ]
    if element.tag == "time":
        keys.append("time")
    return [key for key in keys if key]


def _add_landmarks(container: lxml.html.HtmlElement, record: dict[str, Any]) -> None:
    """Keys any record may use: its heading, first link and image, and all its text."""
    heading = next((squash(h.text_content()) for h in container.iter(*_HEADINGS)), "")
    link = container if container.tag == "a" and container.get("href") else container.find(".//a[@href]")
    link_text = squash(link.text_content()) if link is not None else ""
    if heading or link_text:
        record.setdefault("heading", heading or link_text)
    if link is not None:
        record.setdefault("link", link.get("href"))
    image = container.find(".//img[@src]")
    if image is not None and not image.get("src", "").startswith("data:"):
        record.setdefault("image", image.get("src"))
    text = squash(container.text_content())
    if text:
        record.setdefault("text", text)


def _sibling_sets(
    repeated: list[tuple[lxml.html.HtmlElement, list[lxml.html.HtmlElement]]],
) -> list[RecordSet]:
    sets = []
    for parent, members in repeated:
        trust = TRUST_CHROME if _in_chrome(parent) else TRUST_SIBLINGS
        records = [Record("repeated elements", trust, element_record(m)) for m in members]
        label = " ".join([_describe(parent), members[0].get("class", "")])
        sets.append(RecordSet("repeated elements", trust, records, label=label, extra={"size": len(members)}))
    return sets


def _describe(container: lxml.html.HtmlElement) -> str:
    """Class and id names of a container and its near ancestors, and the heading just before it."""
    names = []
    for element in [container, *container.iterancestors()][:4]:
        names += [element.get("class", ""), element.get("id", ""), element.tag]
    previous = container.getprevious()
    if previous is not None and previous.tag in _HEADINGS:
        names.append(previous.text_content())
    return squash(" ".join(names))


def repeated_siblings(
    body: lxml.html.HtmlElement,
) -> list[tuple[lxml.html.HtmlElement, list[lxml.html.HtmlElement]]]:
    """Parents with at least three structurally similar children (cards, list items, rows)."""
    found = []
    for parent in body.iter():
        if not isinstance(parent.tag, str) or parent.tag in _IGNORED_TAGS | {"table", "thead", "tbody", "tr"}:
            continue
        by_tag: dict[str, list[lxml.html.HtmlElement]] = {}
        for child in parent:
            if isinstance(child.tag, str) and child.tag not in _IGNORED_TAGS:
                by_tag.setdefault(child.tag, []).append(child)
        for members in by_tag.values():
            similar = _similar_members(members)
            if len(similar) >= _MIN_RECORDS:
                found.append((parent, similar))
    return found


def _similar_members(members: list[lxml.html.HtmlElement]) -> list[lxml.html.HtmlElement]:
    if len(members) < _MIN_RECORDS:
        return []
    shapes = [_shape(m) for m in members]
    reference = Counter(shapes).most_common(1)[0][0]
    return [m for m, s in zip(members, shapes, strict=True) if _jaccard(s, reference) >= 0.5]


def _shape(element: lxml.html.HtmlElement, depth: int = 3) -> frozenset[str]:
    """Tag paths below ``element``: cards built from the same template share most of them."""
    paths: set[str] = set()

    def walk(node: lxml.html.HtmlElement, prefix: str, level: int) -> None:
        for child in node:
            if isinstance(child.tag, str) and level < depth:
                path = f"{prefix}/{child.tag}"
                paths.add(path)
                walk(child, path, level + 1)

    walk(element, "", 0)
    return frozenset(paths)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
