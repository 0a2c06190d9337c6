"""Turning page text and JSON-LD values into the primitive types a schema asks for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from .matching import joined
from .numbers import UNKNOWN, NumberStyle, parse_number
from .schema import Schema, SchemaReader


class NotCoercible(Exception):
    """The value cannot become the requested type; the caller tries its next candidate."""


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_SCHEMA_ORG = re.compile(r"^https?://schema\.org/", re.IGNORECASE)
# Checked before the true markers: "out of stock" must not read as "in stock".
_FALSE_MARKERS = ("outofstock", "soldout", "unavailable", "notavailable", "discontinued")
_TRUE_MARKERS = ("instock", "limitedavailability", "onlineonly", "preorder", "presale", "instoreonly")
# The words shops write for stock in the languages they sell in, squashed as joined() squashes
# them ("Nicht verfügbar" -> "nichtverfügbar"). Read only in a short statement: in a paragraph
# they may speak of something else (a delivery option "not available for this store"). False
# words match anywhere in it, true ones only at its start ("indisponible" holds "disponible").
_STOCK_STATEMENT_WORDS = 5
_FALSE_STOCK_WORDS: tuple[str, ...] = (
    "nolongeravailable",
    "nichtverfügbar",
    "nichtlieferbar",
    "ausverkauft",
    "épuisé",
    "rupturedestock",
    "indisponible",
    "agotado",
    "sinstock",
    "esaurito",
    "nondisponibile",
    "esgotado",
    "indisponível",
    "uitverkocht",
    "nietopvoorraad",
    "slutsåld",
    "utsolgt",
    "udsolgt",
    "loppuunmyyty",
    "nedostupn",
    "vypredan",
    "vyprodan",
    "niedostępn",
    "wyprzedan",
    "нетвналичии",
    "отсутствует",
    "распродан",
    "tükendi",
    "stoktayok",
    "품절",
    "缺貨",
    "缺货",
    "售完",
    "在庫切れ",
    "売り切れ",
)
_TRUE_STOCK_WORDS: tuple[str, ...] = (
    "available",  # "Available to ship", "Available for order"; "unavailable" does not start so
    "auflager",
    "lieferbar",
    "vorrätig",
    "enstock",
    "disponible",
    "disponibile",
    "disponível",
    "opvoorraad",
    "ilager",
    "pålager",
    "varastossa",
    "skladem",
    "nasklad",
    "dostępn",
    "wmagazynie",
    "вналичии",
    "stokta",
    "재고있",
    "有現貨",
    "有货",
    "在庫あり",
)
# Squashed as joined() squashes page text (accents of Latin letters dropped: "épuisé" -> "epuise").
_FALSE_STOCK_WORDS = tuple(joined(word) for word in _FALSE_STOCK_WORDS)
_TRUE_STOCK_WORDS = tuple(joined(word) for word in _TRUE_STOCK_WORDS)
_FALSE_WORDS = frozenset({"no", "false", "n", "0", "off", "none", "disabled", "unchecked", "oos"})
_TRUE_WORDS = frozenset({"yes", "true", "y", "1", "on", "available", "enabled", "checked", "✓", "✔"})
# Plain keys that carry the value of a JSON-LD node when a scalar is wanted.
_SCALAR_KEYS = ("@value", "value", "name", "text", "url", "@id", "content")


class Coercer:
    """Coerces raw values to a schema's primitive (or primitive-array) type."""

    def __init__(self, reader: SchemaReader, base_url: str | None, style: NumberStyle = UNKNOWN) -> None:
        self.reader = reader
        self.base_url = base_url
        self.style = style

    def coerce(self, value: Any, schema: Any, *, url_like: bool = False) -> Any:
        for variant in self.reader.variants(schema):
            try:
                return self._coerce_variant(value, variant, url_like)
            except NotCoercible:
                continue
        raise NotCoercible

    def _coerce_variant(self, value: Any, schema: Schema, url_like: bool) -> Any:
        if "const" in schema:
            return _choose([schema["const"]], value)
        if isinstance(schema.get("enum"), list):
            return _choose(schema["enum"], value)
        kinds = [t for t in SchemaReader.types(schema) if t != "null"] or ["any"]
        for kind in kinds:
            try:
                return self._to_kind(value, kind, schema, url_like)
            except NotCoercible:
                continue
        raise NotCoercible

    def _to_kind(self, value: Any, kind: str, schema: Schema, url_like: bool) -> Any:
        if kind == "string":
            return self.to_string(value, schema, url_like)
        if kind == "number":
            return to_number(value, self.style)
        if kind == "integer":
            return to_integer(value, self.style)
        if kind == "boolean":
            return to_boolean(value)
        if kind == "array":
            return self._to_array(value, self.reader.items(schema), url_like)
        if kind == "any":
            if value is None or value == "":
                raise NotCoercible
            return value
        raise NotCoercible  # objects are built by the caller, record by record

    def to_string(self, value: Any, schema: Schema, url_like: bool) -> str:
        text = _scalar_text(value)
        if _SCHEMA_ORG.match(text) and not url_like:
            text = _SCHEMA_ORG.sub("", text)  # "https://schema.org/InStock" -> "InStock"
        fmt = schema.get("format")
        if fmt == "date" and _ISO_DATE.match(text):
            text = text[:10]
        if url_like or fmt in ("uri", "uri-reference", "iri", "url"):
            text = urljoin(self.base_url, text) if self.base_url else text
        if not text:
            raise NotCoercible
        return text

    def _to_array(self, value: Any, items: Schema, url_like: bool) -> list[Any]:
        values = value if isinstance(value, list) else [value]
        coerced = []
        for item in values:
            try:
                coerced.append(self.coerce(item, items, url_like=url_like))
            except NotCoercible:
                continue
        if not coerced:
            raise NotCoercible
        return coerced


def _scalar_text(value: Any) -> str:
    if isinstance(value, list):
        for item in value:
            text = _scalar_text(item)
            if text:
                return text
        return ""
    if isinstance(value, Mapping):
        for key in _SCALAR_KEYS:
            if key in value:
                return _scalar_text(value[key])
        return ""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value).lower()
    return " ".join(str(value).split())


def to_number(value: Any, style: NumberStyle = UNKNOWN) -> float:
    if isinstance(value, bool):
        raise NotCoercible
    if isinstance(value, int | float):
        return float(value)
    # Raw text for strings: squashing whitespace would turn a no-break thousands separator into a gap.
    number = parse_number(value if isinstance(value, str) else _scalar_text(value), style)
    if number is None:
        raise NotCoercible
    return number


def to_integer(value: Any, style: NumberStyle = UNKNOWN) -> int:
    number = to_number(value, style)
    if not number.is_integer():
        raise NotCoercible
    return int(number)


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = _scalar_text(value)
    squashed = joined(_SCHEMA_ORG.sub("", text))
    if any(marker in squashed for marker in _FALSE_MARKERS):
        return False
    if any(squashed.startswith(marker) for marker in _TRUE_MARKERS):
        return True
    if len(text.split()) <= _STOCK_STATEMENT_WORDS:
        if any(word in squashed for word in _FALSE_STOCK_WORDS):
            return False
        if any(squashed.startswith(word) for word in _TRUE_STOCK_WORDS):
            return True
    word = text.strip().lower().rstrip(".!")
    if word in _FALSE_WORDS:
        return False
    if word in _TRUE_WORDS:
        return True
    raise NotCoercible


def _choose(options: list[Any], value: Any) -> Any:
    """The option ``value`` names: equal, or equal once case and punctuation are ignored."""
    if value in options:
        return value
    text = joined(_SCHEMA_ORG.sub("", _scalar_text(value)))
    for option in options:
        if isinstance(option, str) and joined(option) == text:
            return option
    for option in options:
        if isinstance(option, str) and joined(option) and text.startswith(joined(option)):
            return option
    for option in options:
        if isinstance(option, bool | int | float):
            try:
                if to_number(value) == option:
                    return option
            except NotCoercible:
                continue
    return _option_by_truth(options, value)


def _option_by_truth(options: list[Any], value: Any) -> Any:
    """The one option that says yes (or no) like ``value`` does: "Currently unavailable" -> "OutOfStock"."""
    try:
        verdict = to_boolean(value)
    except NotCoercible:
        raise NotCoercible from None
    matching = []
    for option in options:
        try:
            if isinstance(option, str) and to_boolean(option) == verdict:
                matching.append(option)
        except NotCoercible:
            continue
    if len(matching) != 1:
        raise NotCoercible
    return matching[0]
