"""How well a page key (class name, itemprop, JSON-LD property, header text) names a schema property."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[\W_]+")
# "Item #", "Model#:": the sign reads as the word (a "#text" key keeps its name).
_NUMBER_SIGN = re.compile(r"#(?!\w)")
_STOPWORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "is", "it", "its", "of", "on", "or"}
    | {"per", "the", "this", "that", "to", "with"}
)

# Each concept lists phrasings sites and schemas use for the same thing.
_CONCEPT_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "title", "headline", "heading", "product name", "product title", "item name"),
    "price": (
        "price",
        "cost",
        "amount",
        "offer price",
        "sale price",
        "current price",
        "low price",
        "price amount",
        "preis",
        "prix",
        "precio",
        "prezzo",
        "preco",
        "prijs",
        "pris",
        "cena",
        "hinta",
        "fiyat",
        "цена",
    ),
    "currency": ("currency", "price currency", "currency code"),
    "url": (
        "url",
        "link",
        "href",
        "permalink",
        "canonical",
        "page url",
        "web page",
        "product url",
        "item url",
    ),
    "image": ("image", "img", "picture", "photo", "thumbnail", "thumb", "image url", "src"),
    "rating": ("rating", "rating value", "stars", "star rating", "score", "average rating", "avg rating"),
    "review_count": (
        "review count",
        "reviews",
        "number of reviews",
        "num reviews",
        "reviews count",
        "rating count",
    ),
    "author": ("author", "byline", "creator", "writer", "author name", "authors", "by"),
    "date": (
        "date",
        "date published",
        "published",
        "published at",
        "published time",
        "published date",
        "publication date",
        "pub date",
        "publish date",
        "date posted",
        "posted",
        "posted at",
        "datetime",
        "time",
        "created",
        "created at",
        "upload date",
    ),
    "description": ("description", "summary", "excerpt", "abstract", "blurb", "desc", "teaser"),
    "availability": (
        "availability",
        "available",
        "in stock",
        "stock",
        "out of stock",
        "stock status",
        "is available",
        "is in stock",
    ),
    "brand": (
        "brand",
        "manufacturer",
        "maker",
        "make",
        "brand name",
        "marque",
        "marca",
        "marke",
        "merk",
        "marka",
        "znacka",
        "marchio",
        "merkki",
        "maerke",
        "mærke",
        "märke",
        "merke",
        "hersteller",
        "fabricante",
        "fabricant",
        "fabrikant",
        "produttore",
        "producent",
        "vyrobce",
        "vyrobca",
        "proizvodac",
        "gyarto",
        "tillverkare",
        "valmistaja",
        "uretici",
        "бренд",
        "производитель",
    ),
    # Identifiers by family: a site's own id of the product, barcodes, the maker's part number.
    "sku": (
        "sku",
        "product id",
        "item id",
        "asin",
        "item number",
        "item no",
        "product number",
        "product no",
        "product code",
        "item code",
        "article number",
        "article no",
        "artikelnummer",
        "artikelnr",
        "bestellnummer",
        "bestellnr",
        "art nr",
        "art",
        "numero oggetto",
        "numero articolo",
        "numero de l objet",
        "reference",
        "ref",
        "ref no",
        "style number",
        "style no",
        "referencia",
        "codigo",
        "código",
        "cod produs",
        "код",
        "код товара",
        "артикул",
        "kód",
        "kód produktu",
        "kod produktu",
        "šifra",
        "šifra proizvoda",
        "katalognummer",
        "品號",
        "商品編號",
        "商品番号",
        "상품번호",
    ),
    "gtin": (
        "gtin",
        "gtin8",
        "gtin12",
        "gtin13",
        "gtin14",
        "ean",
        "ean13",
        "upc",
        "isbn",
        "isbn13",
        "barcode",
    ),
    "mpn": (
        "mpn",
        "manufacturer part number",
        "part number",
        "mfr part number",
        "model number",
        "model no",
        "model nr",
        "item model number",
    ),
    "body": ("body", "content", "article body", "text", "main text", "article text", "full text"),
    "category": ("category", "section", "article section", "genre"),
    "site": ("site", "site name", "publisher", "source", "website"),
}


@functools.lru_cache(maxsize=65536)  # the same keys recur on every card of a listing
def tokens(text: str) -> tuple[str, ...]:
    """Lower-case word tokens, camelCase split and plurals folded ("ratingValues" -> rating, value)."""
    spaced = _without_accents(_NUMBER_SIGN.sub(" number ", _CAMEL_BOUNDARY.sub(" ", text)))
    return tuple(_singular(t) for t in _NON_WORD.split(spaced.lower()) if t)


def _without_accents(text: str) -> str:
    """Latin letters without their marks ("Código", "Značka" -> "Codigo", "Znacka"): shops and
    schemas write the same label with and without them. Other scripts are left as they are."""
    if text.isascii():
        return text
    return "".join(_LATIN_BASE.get(c, c) for c in text)


def _latin_base(letter: str) -> str:
    decomposed = unicodedata.normalize("NFD", letter)
    return "".join(c for c in decomposed if not unicodedata.combining(c)) or letter


# Latin-1 Supplement, Latin Extended-A and -B, Latin Extended Additional.
_LATIN_BASE = {
    chr(code): _latin_base(chr(code))
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if _latin_base(chr(code)) != chr(code)
}


def _singular(token: str) -> str:
    # Crude, but applied to both sides, so "reviews" meets "review" and "status" meets itself.
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def joined(text: str) -> str:
    return "".join(tokens(text))


_CONCEPT_OF: dict[str, str] = {
    joined(alias): concept for concept, aliases in _CONCEPT_ALIASES.items() for alias in aliases
}


def concept_of(text: str) -> str | None:
    return _CONCEPT_OF.get(joined(text))


def content_tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in tokens(text) if t not in _STOPWORDS)


# Each concept's phrasings of two words or more, as word sets, for keys that contain one.
_PHRASES_OF: dict[str, tuple[frozenset[str], ...]] = {
    concept: tuple(words for words in (content_tokens(a) for a in aliases) if len(words) >= 2)
    for concept, aliases in _CONCEPT_ALIASES.items()
}


# Scores: STRONG and above means the key names the property outright.
EXACT = 100
STRONG = 90
MIN_MATCH = 40


@dataclass(frozen=True)
class PropertyHint:
    """The names a schema property goes by: its key, its title and (weaker) its description."""

    names: tuple[str, ...]
    description: str = ""

    @classmethod
    def of(cls, key: str, schema: object) -> PropertyHint:
        if not isinstance(schema, dict):
            return cls((key,))
        names = [key]
        title = schema.get("title")
        if isinstance(title, str) and title.strip():
            names.append(title)
        description = schema.get("description")
        return cls(tuple(names), description if isinstance(description, str) else "")

    def score(self, key: str) -> int:
        """How well ``key`` (one path segment) names this property, 0 for not at all."""
        best = max((_name_score(name, key) for name in self.names), default=0)
        if self.description and best < STRONG:
            best = max(best, _name_score(self.description, key) // 2)
        return best

    def concept(self) -> str | None:
        """The concept the property's key or title names ("availability", "price"), if any."""
        return next((c for c in map(concept_of, self.names) if c is not None), None)

    def words(self) -> frozenset[str]:
        return frozenset().union(*(content_tokens(n) for n in (*self.names, self.description)))


@dataclass(frozen=True, slots=True)
class _Text:
    """What matching needs of a name or key, worked out once per distinct text."""

    joined: str
    literal: str
    concept: str | None
    words: frozenset[str]


@functools.lru_cache(maxsize=65536)  # a page has thousands of distinct class names; bounded all the same
def _text(text: str) -> _Text:
    squashed = joined(text)
    return _Text(squashed, _literal(text), _CONCEPT_OF.get(squashed), content_tokens(text))


def _name_score(name: str, key: str) -> int:
    named, keyed = _text(name), _text(key)
    name_joined, key_joined = named.joined, keyed.joined
    if not name_joined or not key_joined:
        return 0
    if name_joined == key_joined:
        # Literal equality breaks the tie when plural folding made "headings" meet "heading".
        return EXACT + 1 if named.literal == keyed.literal else EXACT
    concept = named.concept
    if concept is not None and concept == keyed.concept:
        return STRONG
    name_words, key_words = named.words, keyed.words
    if not name_words or not key_words:
        return 0
    if name_words <= key_words:
        return 70  # "name" in "product-name"
    if key_words <= name_words:
        return 60  # "price" for "price_usd"
    if concept is not None and any(_CONCEPT_OF.get(word) == concept for word in key_words):
        return 50  # "title" in "product-title" for "name"
    if concept is not None and any(words <= key_words for words in _PHRASES_OF.get(concept, ())):
        return 50  # "item number" in "eBay item number" for "sku"
    overlap = len(name_words & key_words) / len(name_words | key_words)
    return int(45 * overlap) if overlap >= 0.5 else 0


def _literal(text: str) -> str:
    return _NON_WORD.sub("", _CAMEL_BOUNDARY.sub(" ", text).lower())


def prompt_bonus(prompt_words: Iterable[str], key: str) -> int:
    """A small tie-breaker when the caller's prompt mentions the key."""
    words = set(prompt_words)
    return 3 if words and words & set(tokens(key)) else 0
