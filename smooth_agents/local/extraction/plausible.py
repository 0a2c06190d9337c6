"""Whether a value could be what a property names: nothing (null) beats junk.

Pages hold many strings under keys that look right (a class name "product_id" on a whole card, a
"reference" attribute holding a tracking URL, a 2 kB JSON state under "sku"). Short fields get
values of their own shape, and no string field gets markup, CSS or a JSON blob.
"""

from __future__ import annotations

import re
from typing import Any

from .matching import concept_of

# The longest value a short field may take; an identifier is shorter still.
SHORT_FIELD_LIMIT = 200
_IDENTIFIER_LIMIT = 64
_SHORT_CONCEPTS = frozenset({"sku", "gtin", "mpn", "brand", "currency", "price", "rating", "review_count"})
_NAMING_CONCEPTS = _SHORT_CONCEPTS | {"name", "author", "date", "category", "site", "availability"}
# Tags, JSON objects ({"key": ...) and CSS rules ({color: ...; }): never a name, a brand or an id.
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|[{,]\s*\"[\w-]+\"\s*:|\{\s*[\w-]+\s*:|;\s*\}")
_BARCODE_LENGTHS = frozenset({8, 10, 12, 13, 14})


def plausible(concept: str | None, value: Any) -> bool:
    """False for a value that cannot be a ``concept`` (strings only; other types pass)."""
    if not isinstance(value, str) or concept not in _NAMING_CONCEPTS:
        return True
    if _MARKUP.search(value):
        return False
    if concept in _SHORT_CONCEPTS and concept_of(value) == concept:
        return False  # the field's own label ("Brand", "SKU") read as its value
    if concept in _SHORT_CONCEPTS and len(value) > SHORT_FIELD_LIMIT:
        return False
    if concept in ("sku", "mpn"):
        return _identifier(value)
    if concept == "gtin":
        return _barcode(value)
    if concept == "brand":
        return len(value.split()) <= 6 and not re.search(r"[|:]", value)
    return True


def _identifier(value: str) -> bool:
    """A product id or part number: short, a few words at most, a digit in it, no address."""
    return (
        len(value) <= _IDENTIFIER_LIMIT
        and len(value.split()) <= 4
        and any(c.isdigit() for c in value)
        and "://" not in value
        and not value.startswith("/")
    )


def _barcode(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    return len(digits) in _BARCODE_LENGTHS and (
        digits.isdigit() or (digits[:-1].isdigit() and digits[-1] in "xX")
    )
