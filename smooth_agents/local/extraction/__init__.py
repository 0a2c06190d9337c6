"""Schema-guided extraction of structured data from HTML, without an LLM.

Values come from the page's own structured data first (JSON-LD, microdata, meta tags), then
from its markup (title and headings, labelled values, tables, repeated cards or rows). Schema
properties are matched to page keys by name, title, description and synonyms, coerced to the
schema's types, and the result is validated against the schema.

A page that lists many products (a category, search results: ``listing``) answers an object with
none of its cards' prices, codes or stock; a list schema gets the cards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .builder import Builder, MissingRequired, missing_message, nothing_matched
from .errors import ExtractionError, InvalidSchemaError
from .schema import check_schema, validate
from .sources import Page

__all__ = ["ExtractionError", "InvalidSchemaError", "check_schema", "extract_structured"]


def extract_structured(
    html: str, schema: Mapping[str, Any], *, url: str | None = None, prompt: str | None = None
) -> Any:
    """Data from ``html`` shaped by the JSON Schema ``schema``; raises ExtractionError if none fits.

    ``url`` makes relative links absolute; ``prompt`` only breaks ties between equally good matches.
    """
    check_schema(dict(schema) if isinstance(schema, Mapping) else schema)
    page = Page(html, url)
    builder = Builder(page, schema, prompt)
    try:
        data = _extract(builder, page, schema, prompt)
    except MissingRequired as missing:
        raise ExtractionError(missing_message(missing, page)) from None
    validate(data, schema)
    return data


def _extract(builder: Builder, page: Page, schema: Mapping[str, Any], prompt: str | None) -> Any:
    reader = builder.reader
    kind = reader.kind(schema)
    if kind == "object":
        return _object(builder, page, reader.first_variant_of_kind(schema, "object"))
    if reader.is_array_of_objects(schema):
        array_schema = reader.first_variant_of_kind(schema, "array")
        items = builder.objects_from_page(array_schema, frozenset())
        if not items:
            item_schema = reader.items(array_schema)
            raise nothing_matched(
                list(reader.properties(reader.first_variant_of_kind(item_schema, "object"))),
                page,
                "a list of records",
            )
        return items
    if kind == "array":
        values = builder.values_from_page(reader.first_variant_of_kind(schema, "array"), prompt)
        if not values:
            raise nothing_matched([str(schema.get("title") or prompt or "name")], page, "a list of values")
        return values
    return builder.primitive_from_page(reader.resolve(schema), prompt)


def _object(builder: Builder, page: Page, schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = builder.reader.properties(schema)
    records = page.page_records()
    if not properties:
        # A bare {"type": "object"}: hand back the page's most trusted description of itself.
        return dict(records[0].data) if records else {}
    data = builder.build_object(records, schema, page_level=True)
    if all(value is None for value in data.values()):
        raise nothing_matched(list(properties), page, "an object")
    return data
