"""Trimming what pages wrap around a value: the site's name on a title, "By" on an author, a date after it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .matching import concept_of, joined

# Separators sites put between a page's title and their own name.
_TITLE_PARTS = re.compile(r"\s+[|\-\u2013\u2014\u00b7:]\s+|\s*[|\u00b7]\s*|:\s+")
# "SKU: HDL-2041", "Marke：Acme": a label, a colon and the value, in one element.
# An abbreviated label may end in its full stop instead ("Art.1049084", "Ref. 448812").
_LABELLED = re.compile(
    r"^\s*([^:\uff1a\n\d]{1,40}?)\s*(?:[:\uff1a]|(?<=[^\W\d_])\.(?=\s*\d))\s*(\S.*)$", re.DOTALL
)
_BY = re.compile(r"^\s*(?:by|von|par|por|di|door)\b[:\s]*", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # English month names
_TRAILING_DATE = re.compile(
    r"[\s,;|\u2013\u2014-]+(?:on\s+|updated\s+|published\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4})(?:[\sT,]+\d{1,2}:\d{2}.*)?\s*$",
    re.IGNORECASE,
)


def site_names(declared: list[str], url: str | None) -> list[str]:
    """What a site calls itself: its declared names and its address's main label ("bookshelfco")."""
    names = [name for name in declared if name]
    host = urlsplit(url).hostname if url else None
    if host:
        labels = [label for label in host.split(".") if label not in ("www", "m", "shop", "store")]
        if len(labels) >= 2:
            names.append(labels[-2] if len(labels[-1]) <= 3 and len(labels[-2]) > 3 else labels[0])
    return [joined(name) for name in names if joined(name)]


def without_site_name(title: str, sites: list[str]) -> str:
    """``title`` without the part that names the site and what follows it ("X: Amazon.it: Home")."""
    if not sites:
        return title
    cuts = [0, *(m.end() for m in _TITLE_PARTS.finditer(title))]
    starts = [0, *(m.start() for m in _TITLE_PARTS.finditer(title))]
    # Trailing parts first: "Nike Air - Nike.com" names the site last, and "Nike Air" is no site.
    for index in [*range(1, len(cuts)), 0]:
        begin = cuts[index]
        end = starts[index + 1] if index + 1 < len(starts) else len(title)
        if _names_site(title[begin:end], sites):
            kept = title[:begin] if index else title[end:]
            kept = kept.strip(" |-\u2013\u2014\u00b7:")
            return kept or title
    return title


def _names_site(part: str, sites: list[str]) -> bool:
    squashed = joined(part)
    # "Amazon.it", "bookshelfco.com", "Shop Acme": the site's name and little else.
    return bool(squashed) and any(site in squashed and len(squashed) <= len(site) + 8 for site in sites)


def person_name(text: str) -> str:
    """An author as a name: "By Jane Roe, March 3, 2024" -> "Jane Roe"."""
    name = _TRAILING_DATE.sub("", _BY.sub("", text)).strip(" ,;|")
    return name or text


def without_own_label(text: str, concept: str) -> str:
    """``text`` without a leading label naming ``concept``: "SKU: HDL-2041" -> "HDL-2041".

    Shops print a code or a brand with its label in one element, which their class names the
    value; a label naming anything else ("Colour: red" under "brand") is left as it is.
    """
    match = _LABELLED.match(text)
    if match and _names(match.group(1), concept):
        return match.group(2).strip()
    return text


def _names(label: str, concept: str) -> bool:
    """The label names ``concept`` as a whole or by one of its words ("Referência produto")."""
    return concept_of(label) == concept or any(concept_of(word) == concept for word in label.split())
