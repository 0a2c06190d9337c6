"""Reading numbers the way the page's locale writes them: "1.299,00 €", "$1,299.00", "18,75", "1 299"."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Languages whose numbers put a comma before the decimals (and group thousands with dots or spaces).
_DECIMAL_COMMA_LANGUAGES = frozenset(
    [
        "af",
        "az",
        "be",
        "bg",
        "bs",
        "ca",
        "cs",
        "da",
        "de",
        "el",
        "es",
        "et",
        "eu",
        "fi",
        "fo",
        "fr",
        "gl",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ka",
        "kk",
        "ky",
        "lb",
        "lt",
        "lv",
        "mk",
        "mn",
        "nb",
        "nl",
        "nn",
        "no",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sq",
        "sr",
        "sv",
        "tr",
        "uk",
        "uz",
        "vi",
    ]
)
# Regions of those languages that write a decimal point ("es-MX": $1,299.50).
_DECIMAL_POINT_REGIONS = frozenset({"mx", "us", "pr", "do", "gt", "hn", "ni", "pa", "sv", "pe", "ch", "li"})
# Currencies with no minor unit in everyday prices: "$24.990" (CLP) or "₩30,000" group thousands.
_WHOLE_UNIT_CURRENCIES = frozenset(
    {"CLP", "COP", "HUF", "IDR", "ISK", "JPY", "KRW", "KZT", "PYG", "TWD", "UGX", "VND", "XAF", "XOF"}
)

# A number: digits in groups joined by '.', ',', an apostrophe or a (no-break, thin) space, the
# plain space only before exactly three digits, so "2 3" stays two numbers.
_NUMBER = re.compile(
    r"(?<![\w.,])([-+\u2212]?)"
    r"(\d+(?:(?:[.,'\u2019\u00a0\u202f\u2009]|\x20(?=\d{3}(?!\d)))\d+)*)"
    r"(?:\s?([kKmMbB])\b)?"
)
_SEPARATOR = re.compile(r"\D")
_MACHINE_NUMBER = re.compile(r"^\s*[-+]?\d+(?:\.\d+)?\s*$")
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "b": 1e9}


@dataclass(frozen=True)
class NumberStyle:
    """What a page's numbers mean when a lone separator stands before three digits."""

    decimal_comma: bool | None = None  # None: the page does not say
    whole_units: bool = False  # prices in a currency without minor units

    @classmethod
    def of(cls, language: str | None, currency: str | None) -> NumberStyle:
        decimal_comma = None
        if language:
            parts = re.split(r"[-_]", language.strip().lower())
            if parts[0]:
                region = parts[1] if len(parts) > 1 else ""
                decimal_comma = parts[0] in _DECIMAL_COMMA_LANGUAGES and region not in _DECIMAL_POINT_REGIONS
        whole = currency is not None and currency.strip().upper() in _WHOLE_UNIT_CURRENCIES
        return cls(decimal_comma, whole)


UNKNOWN = NumberStyle()


def parse_number(text: str, style: NumberStyle = UNKNOWN) -> float | None:
    """The first number written in ``text``, or None.

    A bare machine number ("18.75", as structured data and attributes carry them) is read as is;
    otherwise the separators decide: with both '.' and ',' the last one is the decimal mark; a mark
    repeated groups thousands; a lone mark before one, two or four and more digits is the decimal
    mark; a lone mark before exactly three digits is read by the page's style.
    """
    if _MACHINE_NUMBER.match(text):
        return float(text)
    match = _NUMBER.search(text)
    if match is None:
        return None
    sign, digits, suffix = match.groups()
    number = _read_digits(digits, style)
    if suffix:
        number *= _MULTIPLIERS[suffix.lower()]
    return -number if sign in ("-", "\u2212") else number


def _read_digits(digits: str, style: NumberStyle) -> float:
    groups = _SEPARATOR.split(digits)
    marks = _SEPARATOR.findall(digits)
    decimal_at = _decimal_position(marks, groups, style)
    if decimal_at is None:
        return float("".join(groups))
    whole = "".join(groups[: decimal_at + 1])
    fraction = groups[decimal_at + 1]
    # Anything after the decimals ("1.2.3", a version) is not part of this number.
    return float(f"{whole}.{fraction}")


def _decimal_position(marks: list[str], groups: list[str], style: NumberStyle) -> int | None:
    """Index of the mark that separates decimals, or None when every mark groups thousands."""
    points = [i for i, mark in enumerate(marks) if mark in ".,"]
    if not points:
        return None  # spaces and apostrophes only group
    last = points[-1]
    kinds = {marks[i] for i in points}
    if len(kinds) == 2:
        return last  # "1.299,00" and "1,299.00"
    if len(points) > 1:
        # "1.234.567" groups; "1.2.3" is no price: read up to its first mark.
        return None if all(len(groups[i + 1]) == 3 for i in points) else points[0]
    if len(groups[last + 1]) != 3:
        return last  # "18,75", "12.5", "0,5"
    if style.whole_units:
        return None
    mark = marks[last]
    if style.decimal_comma is None:
        return None if mark == "," else last  # the English reading
    return last if (mark == ",") == style.decimal_comma else None
