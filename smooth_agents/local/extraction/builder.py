"""Assembling schema-shaped data from page records: objects, arrays of records, primitives."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .coercion import Coercer, NotCoercible, to_boolean
from .currency import currency_of_locale, currency_of_price
from .errors import ExtractionError
from .matching import MIN_MATCH, STRONG, PropertyHint, content_tokens, prompt_bonus, tokens
from .plausible import plausible
from .schema import Schema, SchemaReader
from .sources import TRUST_LABELS, TRUST_META, TRUST_MICRODATA, Page, Record, RecordSet
from .tidy import person_name, without_own_label, without_site_name
from .url_ids import in_url, product_id_in_url

_URL_WORDS = frozenset({"url", "link", "href", "src", "uri", "image", "img", "thumbnail", "permalink"})
_MAX_DEPTH = 8  # recursive schemas ($ref to itself) stop here
# What one product's offer states: on a listing each card has its own, and the page none.
# A percentage beside a price: the discount ("-50%", "20 % off"), never the amount.
_PERCENT = re.compile(r"[-−+]?\d+(?:[.,]\d+)?\s?%")
# The price no longer asked, named by the word before it: "was £29.99", "statt 4.50", "au lieu de".
_FORMER_PRICE = re.compile(
    r"(?i)(?<!\w)(?:was|instead of|before|statt|anstatt|vorher|uvp|rrp|msrp|au lieu de|avant|antes|"
    r"prima|invece di|era|voor|f\u00f6re|f\u00f8r|przed|d\u0159\u00edve|\u0431\u044b\u043b\u043e)"
    r"\s*:?\s*\D{0,4}?\d[\d.,'\u00a0 ]*(?:\s?[^\W\d_]{1,3}\.?|\s?[^\w\s])?"
)


def _current_price_text(text: str) -> str:
    """A price text without its discounts and its former price: "-50% statt 4.50 CHF 2.25" -> "2.25"."""
    kept = _FORMER_PRICE.sub(" ", _PERCENT.sub(" ", text))
    return kept if any(c.isdigit() for c in kept) else text


# Short values shops print after their label in one element ("SKU: HDL-2041").
_LABELLED_CONCEPTS = frozenset({"sku", "gtin", "mpn", "brand"})
_OFFER_CONCEPTS = frozenset({"price", "currency", "availability", "sku", "gtin", "mpn"})
_MISSING = object()


class MissingRequired(Exception):
    """A required, non-nullable property has no value on the page."""

    def __init__(self, name: str, hint: PropertyHint) -> None:
        super().__init__(name)
        self.name = name
        self.hint = hint


@dataclass(frozen=True)
class Field:
    """One value inside a record, at a path of keys ("offers", "price")."""

    path: tuple[str, ...]
    value: Any

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def record_fields(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[Field]:
    """Every value in a record, nested ones under their key path (first element of lists of nodes)."""
    for key, value in data.items():
        if key == "@context":
            continue
        # "og:title" and "article:published_time" are paths too.
        path = prefix + tuple(part for part in key.split(":") if part)
        if len(path) == len(prefix):
            continue  # a key of only colons names nothing
        yield Field(path, value)
        if len(path) > 4:
            continue
        if isinstance(value, Mapping):
            yield from record_fields(value, path)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            yield from record_fields(value[0], path)


def field_score(hint: PropertyHint, field: Field) -> int:
    """Match on the last key; the whole path ("offers price") counts slightly less."""
    score = hint.score(field.path[-1])
    if field.depth:
        score = max(score, hint.score(" ".join(field.path)) - 5)
    return score


@dataclass
class Candidate:
    record: Record
    field: Field
    score: int
    coverage: int


class Builder:
    """Builds values for one schema from one page."""

    def __init__(self, page: Page, schema: Schema, prompt: str | None) -> None:
        self.page = page
        self.reader = SchemaReader(schema)
        self.coercer = Coercer(self.reader, page.base_url, page.number_style)
        self.prompt_words = content_tokens(prompt or "")
        self._last_raw: Any = None  # the page value the last primitive property was read from
        self._record_fields: dict[int, tuple[Record, list[Field]]] = {}
        self._scores: dict[tuple[PropertyHint, tuple[str, ...]], int] = {}

    # --- objects ------------------------------------------------------------------------

    def build_object(
        self,
        records: list[Record],
        schema: Schema,
        *,
        page_level: bool,
        depth: int = 0,
        of_page: bool | None = None,
    ) -> dict[str, Any]:
        """Fill ``schema``'s properties from ``records``; raises MissingRequired.

        ``of_page``: the object describes the page as a whole (the page's object and objects
        nested in it, not the items of a list); on a listing it gets no offer of any one card.
        """
        withheld = (page_level if of_page is None else of_page) and self.page.is_listing
        properties = self.reader.properties(schema)
        required = set(self.reader.required(schema))
        coverage = {id(r): self._coverage(r, properties) for r in records}
        result: dict[str, Any] = {}
        found_in: dict[str, Any] = {}  # concept -> the page value a property was read from
        for name, sub_schema in properties.items():
            hint = PropertyHint.of(name, self.reader.resolve(sub_schema))
            concept = hint.concept()
            self._last_raw = None
            if withheld and concept in _OFFER_CONCEPTS:
                value = _MISSING
            else:
                value = self._property_value(records, hint, sub_schema, coverage, page_level, depth)
            if value is _MISSING and concept == "currency":
                value = self._currency_beside_price(found_in.get("price"), sub_schema)
            if value is _MISSING and concept == "currency" and "price" in found_in and page_level:
                locale = currency_of_locale(self.page.language, self.page.own_url)
                value = self._coerced(locale, sub_schema)
            if value is _MISSING and concept == "brand" and page_level:
                value = self._coerced(self.page.brand_link, sub_schema)
            if value is _MISSING and concept == "sku" and page_level and not withheld:
                value = self._coerced(product_id_in_url(self.page.own_url), sub_schema)
            if value is not _MISSING:
                result[name] = value
                if concept is not None:
                    found_in.setdefault(concept, self._last_raw)
            elif name in required:
                if not self.reader.allows_null(sub_schema):
                    raise MissingRequired(name, hint)
                result[name] = None
        return result

    def _currency_beside_price(self, price_text: Any, schema: Any) -> Any:
        """A price written "18,75 €" states its currency where the page has no currency field."""
        return self._coerced(currency_of_price(price_text) if isinstance(price_text, str) else None, schema)

    def _tidy(self, concept: str | None, text: str) -> str:
        if concept == "name":
            return without_site_name(text, self.page.site_names)
        if concept == "author":
            return person_name(text)
        return text

    def _coerced(self, value: str | None, schema: Any) -> Any:
        if value is None:
            return _MISSING
        try:
            return self.coercer.coerce(value, schema)
        except NotCoercible:
            return _MISSING

    def _coverage(self, record: Record, properties: Mapping[str, Any]) -> int:
        fields = self._fields(record)
        hints = [PropertyHint.of(n, self.reader.resolve(s)) for n, s in properties.items()]
        return sum(any(self._score(h, f) >= MIN_MATCH for f in fields) for h in hints)

    def _fields(self, record: Record) -> list[Field]:
        fields = self._record_fields.get(id(record))
        if fields is None or fields[0] is not record:
            fields = self._record_fields[id(record)] = (record, list(record_fields(record.data)))
        return fields[1]

    def _score(self, hint: PropertyHint, field: Field) -> int:
        """field_score, remembered: coverage and candidates ask about the same pairs."""
        key = (hint, field.path)
        score = self._scores.get(key)
        if score is None:
            score = self._scores[key] = field_score(hint, field)
        return score

    def _property_value(
        self,
        records: list[Record],
        hint: PropertyHint,
        schema: Any,
        coverage: dict[int, int],
        page_level: bool,
        depth: int,
    ) -> Any:
        if depth > _MAX_DEPTH:
            return _MISSING
        kind = self.reader.kind(schema)
        if self.reader.is_array_of_objects(schema):
            return self._object_list(records, hint, schema, coverage, page_level, depth)
        if kind == "object":
            return self._nested_object(records, hint, schema, coverage, depth, of_page=page_level)
        url_like = _is_url_like(hint)
        candidates = self._candidates(records, hint, coverage, wants_list=kind == "array")
        concept = hint.concept()
        values: Iterator[Any] = (c.field.value for c in candidates)
        if concept == "availability":
            values = _available_first(candidates)
        elif concept == "sku":
            values = self._shown_identifier_first(candidates, schema)
        for value in values:
            if concept == "price" and isinstance(value, str):
                value = _current_price_text(value)
            try:
                coerced = self.coercer.coerce(value, schema, url_like=url_like)
            except NotCoercible:
                continue
            if isinstance(coerced, str) and concept in _LABELLED_CONCEPTS:
                coerced = without_own_label(coerced, concept)
            if not plausible(concept, coerced):
                continue
            if isinstance(coerced, str) and not url_like:
                coerced = self._tidy(concept, coerced)
            self._last_raw = value
            return coerced
        return _MISSING

    def _shown_identifier_first(self, candidates: list[Candidate], schema: Any) -> Iterator[Any]:
        """A product code the page labels for its readers before an id only its data carries.

        Structured data often holds a back-office id (a variant or database key) that the page
        never shows, while the code a shopper quotes stands labelled beside the product.
        """
        first = next((c for c in candidates if self._plausible_id(c.field.value, schema)), None)
        # Of the codes named outright and shown to shoppers, the one the page's own address
        # carries is the shop's id (an id only the data and the address hold is not shown).
        addressed = next(
            (
                c
                for c in candidates
                if c.score >= STRONG
                and in_url(str(c.field.value), self.page.own_url)
                and str(c.field.value).strip() in self.page.visible_text
                and self._plausible_id(c.field.value, schema)
            ),
            None,
        )
        if addressed is not None:
            yield addressed.field.value
        elif first is not None and first.record.trust <= TRUST_META:
            shown = self.page.visible_text
            if str(first.field.value).strip() not in shown:
                for candidate in candidates:
                    if (
                        candidate.record.trust == TRUST_LABELS
                        and candidate.score >= STRONG
                        and self._plausible_id(candidate.field.value, schema)
                    ):
                        yield candidate.field.value
                        break
        for candidate in candidates:
            yield candidate.field.value

    def _plausible_id(self, value: Any, schema: Any) -> bool:
        try:
            return plausible("sku", self.coercer.coerce(value, schema))
        except NotCoercible:
            return False

    def _candidates(
        self, records: list[Record], hint: PropertyHint, coverage: dict[int, int], *, wants_list: bool = False
    ) -> list[Candidate]:
        found = []
        for record in records:
            for field in self._fields(record):
                score = self._score(hint, field)
                if score >= MIN_MATCH:
                    score += prompt_bonus(self.prompt_words, field.path[-1])
                    found.append(Candidate(record, field, score, coverage.get(id(record), 0)))
        # A list answers a list property best; then a key that names the property outright
        # beats a partial one from a more trusted source; a record that answers three or more of
        # the schema's properties (the product) beats the rest (the shop's Organization node, a
        # breadcrumb) from any source.
        found.sort(
            key=lambda c: (
                not wants_list or isinstance(c.field.value, list),
                c.score >= STRONG,
                c.coverage >= 3,
                -c.record.trust,
                c.coverage,
                c.score,
                -c.field.depth,
            ),
            reverse=True,
        )
        return found

    def _nested_object(
        self,
        records: list[Record],
        hint: PropertyHint,
        schema: Any,
        coverage: dict[int, int],
        depth: int,
        *,
        of_page: bool,
    ) -> Any:
        object_schema = self.reader.first_variant_of_kind(schema, "object")
        for candidate in self._candidates(records, hint, coverage):
            value = candidate.field.value
            value = value[0] if isinstance(value, list) and value and isinstance(value[0], Mapping) else value
            if isinstance(value, Mapping):
                nested = self._try_object(
                    [Record(candidate.record.source, candidate.record.trust, dict(value))],
                    object_schema,
                    depth,
                    of_page=of_page,
                )
                if nested:
                    return nested
        # No sub-record of that name: the nested fields may sit flat in the same records.
        nested = self._try_object(records, object_schema, depth, of_page=of_page)
        return nested if nested else _MISSING

    def _try_object(
        self, records: list[Record], schema: Schema, depth: int, *, of_page: bool = False
    ) -> dict[str, Any] | None:
        try:
            built = self.build_object(records, schema, page_level=False, depth=depth + 1, of_page=of_page)
        except MissingRequired:
            return None
        return built if any(v is not None for v in built.values()) else None

    # --- arrays of objects ----------------------------------------------------------------

    def _object_list(
        self,
        records: list[Record],
        hint: PropertyHint,
        schema: Any,
        coverage: dict[int, int],
        page_level: bool,
        depth: int,
    ) -> Any:
        array_schema = self.reader.first_variant_of_kind(schema, "array")
        item_schema = self.reader.first_variant_of_kind(self.reader.items(array_schema), "object")
        for candidate in self._candidates(records, hint, coverage):
            value = candidate.field.value
            if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
                source = candidate.record
                nested = [
                    Record(source.source, source.trust, dict(v)) for v in value if isinstance(v, Mapping)
                ]
                items = self.items_from(nested, item_schema, depth)
                if items:
                    return _limit(items, array_schema)
        if not page_level:
            return _MISSING
        items = self.objects_from_page(array_schema, hint.words(), depth)
        return items if items else _MISSING

    def objects_from_page(
        self, array_schema: Schema, hint_words: frozenset[str], depth: int = 0
    ) -> list[Any]:
        """Records from the record set (table, cards, JSON-LD list) that best fits the item schema."""
        item_schema = self.reader.first_variant_of_kind(self.reader.items(array_schema), "object")
        best, share = self._best_record_set(item_schema, hint_words)
        # A page about one thing (a product page) answers a list schema with that one thing,
        # unless a list on the page fits the item schema at least as well.
        structured = [r for r in self.page.single_records() if r.trust <= TRUST_MICRODATA]
        properties = self.reader.properties(item_schema)
        single_share = max((self._coverage(r, properties) for r in structured), default=0) / max(
            len(properties), 1
        )
        if best is not None and share >= single_share:
            items = self.items_from(best.records, item_schema, depth)
            if items:
                return _limit(items, array_schema)
        single = self._try_object(self.page.single_records(), item_schema, depth)
        return [single] if single else []

    def items_from(self, records: list[Record], item_schema: Schema, depth: int) -> list[Any]:
        items = []
        for record in records:
            item = self._try_object([record], item_schema, depth)
            if item:  # records lacking a required field (header rows, ads between cards) are skipped
                items.append(item)
        return items

    def _best_record_set(
        self, item_schema: Schema, hint_words: frozenset[str]
    ) -> tuple[RecordSet | None, float]:
        """The record set whose records match most item properties, and that share of matches."""
        properties = self.reader.properties(item_schema)
        if not properties:
            return None, 0.0
        words = hint_words | self.prompt_words
        best: tuple[float, bool, int, int] | None = None
        chosen = None
        for record_set in self.page.record_sets():
            matched = sum(self._coverage(r, properties) for r in record_set.records)
            share = matched / (len(record_set.records) * len(properties))
            if share <= 0:
                continue
            named = bool(words & set(tokens(record_set.label)))  # the caller named this list
            rank = (round(share, 2), named, -record_set.trust, len(record_set.records))
            if best is None or rank > best:
                best, chosen = rank, record_set
        return chosen, (best[0] if best else 0.0)

    # --- primitives and arrays of primitives ------------------------------------------------

    def primitive_from_page(self, schema: Schema, prompt: str | None) -> Any:
        hint = _top_level_hint(schema, prompt)
        if hint.concept() in _OFFER_CONCEPTS and self.page.is_listing:
            raise MissingRequired(hint.names[0], hint)  # one card's price is not the page's
        records = self.page.single_records()
        coverage = {id(r): 0 for r in records}
        value = self._property_value(records, hint, schema, coverage, page_level=False, depth=0)
        if value is _MISSING:
            raise MissingRequired(hint.names[0], hint)
        return value

    def values_from_page(self, array_schema: Schema, prompt: str | None) -> list[Any]:
        """A list of primitives: the best-matching field of each record in the best record set."""
        hint = _top_level_hint(array_schema, prompt)
        key = hint.names[0]
        value_schema = {
            **self.reader.items(array_schema),
            "title": " ".join(hint.names),
            "description": hint.description,
        }
        item_schema: Schema = {"type": "object", "properties": {key: value_schema}, "required": [key]}
        best, _ = self._best_record_set(item_schema, hint.words())
        if best is None:
            return []
        return _limit([item[key] for item in self.items_from(best.records, item_schema, 0)], array_schema)


def _available_first(candidates: list[Candidate]) -> Iterator[Any]:
    """Availability of a product sold in several offers (sizes, colours, sellers): in stock if any is.

    The offers are the list items under the best candidate's path and the equally good candidates
    beside it (one JSON-LD node per variant); other candidates follow in their order.
    """
    if not candidates:
        return
    best = candidates[0]
    tier = [c for c in candidates if (c.score, c.record.trust) == (best.score, best.record.trust)]
    offered = [value for c in tier for value in values_at(c.record.data, c.field.path)]
    for value in offered:
        try:
            if to_boolean(value):
                yield value
                break
        except NotCoercible:
            continue
    for candidate in candidates:
        yield candidate.field.value


def values_at(data: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at ``path`` in ``data``, fanning out over lists of nodes."""
    if not path:
        return [data]
    if isinstance(data, list):
        return [v for item in data for v in values_at(item, path)]
    if isinstance(data, Mapping) and path[0] in data:
        return values_at(data[path[0]], path[1:])
    return []


def _top_level_hint(schema: Schema, prompt: str | None) -> PropertyHint:
    """What a top-level primitive is called: its title, else description, else the prompt, else a name."""
    title = schema.get("title") if isinstance(schema.get("title"), str) else None
    description = schema.get("description") if isinstance(schema.get("description"), str) else None
    name = title or description or prompt or "name"
    return PropertyHint((str(name),), str(description or prompt or "") if title else "")


def _is_url_like(hint: PropertyHint) -> bool:
    return any(_URL_WORDS & set(tokens(name)) for name in hint.names)


def _limit(items: list[Any], array_schema: Schema) -> list[Any]:
    maximum = array_schema.get("maxItems")
    return items[:maximum] if isinstance(maximum, int) else items


def missing_message(error: MissingRequired, page: Page) -> str:
    sources = ", ".join(dict.fromkeys(r.source for r in page.single_records())) or "nothing"
    names = " / ".join(repr(n) for n in error.hint.names)
    if page.is_listing and error.hint.concept() in _OFFER_CONCEPTS:
        return (
            f"no value on the page matched required property {names}: the page lists several"
            " products (a category or search results), and one card's value is not the page's."
            " Ask for a list of them (an array of objects) to get each product's,"
            " or open a product's own page."
        )
    return (
        f"no value on the page matched required property {names}; looked in {sources}"
        " by property name, title, synonyms, class names, itemprop names and labels."
        " Try naming the property like the page labels it, add a 'title' or 'description',"
        " or make it optional (or nullable)."
    )


def nothing_matched(schema_names: list[str], page: Page, what: str) -> ExtractionError:
    looked = ", ".join(repr(n) for n in schema_names) or "(no properties)"
    sources = ", ".join(
        dict.fromkeys([r.source for r in page.single_records()] + [s.source for s in page.record_sets()])
    )
    return ExtractionError(
        f"nothing on the page matched the schema ({what}); looked for {looked}"
        f" in {sources or 'an empty page'}."
        " Try property names the page uses (labels, table headers, class names or schema.org names such as"
        " name, price, ratingValue), add a 'title' or 'description' to each property, or check that the"
        " page shows the data (it may need to load or be scrolled first)."
    )
