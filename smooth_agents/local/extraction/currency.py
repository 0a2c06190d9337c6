"""The currency a price is written in, read from the price's own text ("18,75 €", "215 490 тг.")."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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


_EURO = "at be cy de ee es fi fr gr hr ie it lt lu lv mt nl pt si sk"
_COUNTRY_CURRENCY = dict.fromkeys(_EURO.split(), "EUR") | {
    "ae": "AED", "ar": "ARS", "au": "AUD", "bg": "BGN", "br": "BRL", "ca": "CAD", "ch": "CHF",
    "cl": "CLP", "cn": "CNY", "co": "COP", "cz": "CZK", "dk": "DKK", "eg": "EGP", "gb": "GBP",
    "uk": "GBP", "hk": "HKD", "hu": "HUF", "id": "IDR", "il": "ILS", "in": "INR", "is": "ISK",
    "jp": "JPY", "kr": "KRW", "kz": "KZT", "mx": "MXN", "my": "MYR", "no": "NOK", "nz": "NZD",
    "pe": "PEN", "ph": "PHP", "pk": "PKR", "pl": "PLN", "ro": "RON", "rs": "RSD", "ru": "RUB",
    "sa": "SAR", "se": "SEK", "sg": "SGD", "th": "THB", "tr": "TRY", "tw": "TWD", "ua": "UAH",
    "us": "USD", "vn": "VND", "za": "ZAR",
}  # fmt: skip
# Languages spoken in one currency's lands only (English, Spanish, German... are not).
_LANGUAGE_CURRENCY = {
    "bg": "BGN", "cs": "CZK", "da": "DKK", "et": "EUR", "fi": "EUR", "he": "ILS", "hu": "HUF",
    "is": "ISK", "ja": "JPY", "ko": "KRW", "lt": "EUR", "lv": "EUR", "nb": "NOK", "nn": "NOK",
    "no": "NOK", "pl": "PLN", "sk": "EUR", "sl": "EUR", "sv": "SEK", "th": "THB", "tr": "TRY",
    "uk": "UAH", "vi": "VND",
}  # fmt: skip


def currency_of_locale(language: str | None, url: str | None) -> str | None:
    """The currency of the country a page is written for, when nothing on it names one.

    From the region of its language ("de-CH", "en_GB"), else its address's country domain
    (".pl", ".co.uk"), else a language spoken in one currency's lands only ("cs", "sv").
    """
    parts = re.split(r"[-_]", (language or "").strip().lower())
    if len(parts) >= 2 and len(parts[-1]) == 2 and parts[-1] in _COUNTRY_CURRENCY:
        return _COUNTRY_CURRENCY[parts[-1]]
    host = (urlsplit(url).hostname or "") if url else ""
    domain = host.rsplit(".", 1)[-1] if "." in host else ""
    if domain in _COUNTRY_CURRENCY:
        return _COUNTRY_CURRENCY[domain]
    return _LANGUAGE_CURRENCY.get(parts[0]) if parts[0] else None
