"""The product id a shop puts in its product page's address (".../deal/7731200456", "?pid=418822").

Used for an identifier property only when the page states none in its data or markup: many shops
name the product in the address and nowhere else.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# Query parameters that carry the product's id.
_ID_PARAMETERS = ("pid", "product_id", "productid", "item_id", "itemid", "sku", "id")
_ID_VALUE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
# A path token that is an id: five or more digits, or capitals then digits ("K20931455"); one
# lower-case letter before the digits names the kind of page ("p300217766").
_ID_TOKEN = re.compile(r"^(?:[a-z]?(\d{5,20})|([A-Z]{1,3}\d{5,20}))$")


def product_id_in_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    query = {key.lower(): value for key, value in parse_qsl(parts.query)}
    for key in _ID_PARAMETERS:
        value = query.get(key, "")
        if _ID_VALUE.match(value) and any(c.isdigit() for c in value):
            return value
    segments = [s for s in parts.path.split("/") if s]
    for segment in reversed(segments[-2:]):
        stem = segment.rsplit(".", 1)[0] if "." in segment else segment
        for token in reversed(re.split(r"[-_.,]", stem)):
            match = _ID_TOKEN.match(token)
            if match:
                return match.group(1) or match.group(2)
    return None


def in_url(value: str, url: str | None) -> bool:
    """``value`` stands as a whole token of ``url``'s path or query ("B08LNDXM65" in ".../dp/B08LNDXM65")."""
    value = value.strip()
    if not url or len(value) < 4:
        return False
    parts = urlsplit(url)
    where = f"{parts.path}?{parts.query}"
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", where, re.IGNORECASE) is not None
