"""The currency a price is written in, read from the price's own text ("18,75 €", "215 490 тг.")."""

from __future__ import annotations

import re

# Signs and local abbreviations that name one currency.
_SIGNS = {
    "€": "EUR",
    "£": "GBP",
    "₩": "KRW",
    "원": "KRW",
    "₹": "INR",
    "₽": "RUB",
    "руб": "RUB",
    "₸": "KZT",
    "тг": "KZT",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "₱": "PHP",
    "฿": "THB",
    "₴": "UAH",
    "грн": "UAH",
    "zł": "PLN",
    "kč": "CZK",
    "kn": "HRK",
    "ft": "HUF",
    "lei": "RON",
    "лв": "BGN",
    "r$": "BRL",
    "円": "JPY",
    "us$": "USD",
    "nt$": "TWD",
    "a$": "AUD",
    "c$": "CAD",
    "hk$": "HKD",
}
# Signs several currencies use: given as written, since the text alone cannot tell which.
_SHARED_SIGNS = ("$", "¥", "元", "kr")
_ISO_CODES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HRK",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KRW",
        "KZT",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
    ]
)
_SIGN = "|".join(re.escape(s) for s in sorted([*_SIGNS, *_SHARED_SIGNS], key=len, reverse=True))
# A sign or code right before or after the number (at most one space or no-break space between).
_BEFORE = re.compile(rf"(?i)(?:^|(?<=[^\w]))({_SIGN}|[A-Z]{{3}})\.?[\s\u00a0]?[-+]?\d")
_AFTER = re.compile(rf"(?i)\d[\s\u00a0]?({_SIGN}|[A-Z]{{3}})(?![^\W\d_])")


def currency_of_price(text: str) -> str | None:
    """The ISO code (or the shared sign as written) beside a number of ``text``, if any."""
    for pattern in (_BEFORE, _AFTER):
        for match in pattern.finditer(text):
            currency = _resolve(match.group(1))
            if currency:
                return currency
    return None


def _resolve(sign: str) -> str | None:
    code = _SIGNS.get(sign.lower())
    if code:
        return code
    if sign.isupper() and sign in _ISO_CODES:  # "EUR 12", never the word "eur" in a sentence
        return sign
    if sign.lower() in _SHARED_SIGNS:
        return sign
    return None
