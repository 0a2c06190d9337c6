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

import lxml.html
from lxml import etree

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
    def site_names(self) -> list[str]:
        """Names the site goes by, squashed: for stripping them from titles."""
        declared = self.root.xpath(
            "//meta[@property='og:site_name' or @name='application-name'"
            " or @name='apple-mobile-web-app-title']"
            "/@content"
        )
        return site_names([str(name) for name in declared], self.own_url)

    @functools.cached_property
    def number_style(self) -> NumberStyle:
        """How the page writes numbers: by its declared language and the currency of its prices."""
        language = self.root.get("lang") or self.root.get("xml:lang")
        if not language:
            language = self.root.xpath(
                "string(//meta[@property='og:locale']/@content"
                " | //meta[translate(@http-equiv, 'CONTENT-LANGUAGE', 'content-language')"
                " = 'content-language']/@content)"
            )
        return NumberStyle.of(str(language or "") or None, self.declared_currency)

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
    def _single_records(self) -> list[Record]:
        records = [Record("json-ld", TRUST_JSON_LD, node) for node in self.json_ld]
        records += [Record("microdata", TRUST_MICRODATA, item) for item in _microdata_items(self.root)]
        records.append(Record("meta tags", TRUST_META, _meta_record(self.root)))
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
        sets += _sibling_sets(self._body())
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
    return record


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
        if definition is not None and definition.tag == "dd":
            _set_label(record, term.text_content(), definition.text_content())
    for element in root.iter("li", "p", "div", "span"):
        if len(element) <= 2:  # short runs of text only, not whole sections
            text = squash(_INVISIBLE.sub("", element.text_content()))
            match = _LABELLED_TEXT.match(text)
            # A wrapper around "Model: X" and "Code: Y" reads as "Model: XCode: Y": its children speak.
            if match and not any(_label_match(child) for child in element):
                _set_label(record, match.group(1), match.group(2))
            elif text.endswith(":") and len(text) <= 41:
                # The label alone, its value in the next element: <div>Brand:</div><div>ACME</div>.
                value = element.getnext()
                if value is not None and isinstance(value.tag, str):
                    _set_label(record, text, value.text_content())
    return record


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


def element_record(container: lxml.html.HtmlElement, *, skip_chrome: bool = False) -> dict[str, Any]:
    """A record of the values inside ``container``, keyed by class, id, itemprop and rel names."""
    record: dict[str, Any] = {}
    holding_struck = _holding_struck_text(container)
    for element in _content_elements(container, skip_chrome):
        keys = _element_keys(element)
        if not keys:
            continue  # reading the text of an element no key names would be wasted
        value = _without_struck_text(element) if element in holding_struck else element_value(element)
        if not value:
            continue
        href = element.get("href") if element.tag == "a" else None
        for key in keys:
            record.setdefault(key, value)
            if href:
                record.setdefault(f"{key} url", href)
    _add_landmarks(container, record)
    return record


_STRUCK_TAGS = ("s", "del", "strike")


def _holding_struck_text(container: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """Elements with struck-through text inside (the price before a discount), found in one pass."""
    holding: set[lxml.html.HtmlElement] = set()
    for struck in container.iter(*_STRUCK_TAGS):
        for ancestor in struck.iterancestors():
            if ancestor in holding:
                break
            holding.add(ancestor)
    return holding


def _without_struck_text(element: lxml.html.HtmlElement) -> str:
    """An element's value without its struck-through parts: shops strike the price no longer asked.

    "<s>144,99</s> 131,99" reads as the current price; a value that is all struck stays as it is.
    """
    value = element_value(element)
    if element.get("content"):
        return value
    parts = [
        str(text)
        for text in element.xpath(
            ".//text()[not(ancestor::s or ancestor::del or ancestor::strike"
            " or ancestor::script or ancestor::style)]"
        )
    ]
    kept = squash("".join(parts))
    return kept or value


def _content_elements(container: lxml.html.HtmlElement, skip_chrome: bool) -> Iterator[lxml.html.HtmlElement]:
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
        if skip_chrome and tag in _CHROME_TAGS and not inside:
            continue
        yield child
        if len(child):
            stack.append((iter(child), inside or tag in _CONTENT_TAGS))


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


def _sibling_sets(body: lxml.html.HtmlElement) -> list[RecordSet]:
    sets = []
    for parent, members in repeated_siblings(body):
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
