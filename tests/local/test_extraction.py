"""Schema-guided extraction on the shipped demo pages and on small inline pages."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from smooth_agents.local.extraction import (
    ExtractionError,
    InvalidSchemaError,
    check_schema,
    extract_structured,
)
from smooth_agents.local.extraction.coercion import NotCoercible, to_boolean, to_integer, to_number
from smooth_agents.local.extraction.matching import _CONCEPT_ALIASES, concept_of

BASE = "https://demo.example/"


def demo_page(name: str) -> str:
    return (files("smooth_agents.local") / "demo_site" / name).read_text(encoding="utf-8")


def extract(page: str, schema: dict[str, Any], **kwargs: Any) -> Any:
    return extract_structured(demo_page(page), schema, url=BASE + page, **kwargs)


def obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}

LISTING = [
    ("Nimbus 14 Pro Laptop", 1299.0, 4.6, 328, True, "nimbus-14-pro"),
    ("Nimbus 13 Air Laptop", 899.0, 4.4, 512, True, "nimbus-13-air"),
    ("Vertex 16 Creator Laptop", 2149.99, 4.8, 96, True, "vertex-16-creator"),
    ("Vertex 15 Gaming Laptop", 1749.0, 4.5, 203, False, "vertex-15-gaming"),
    ("Orbit 14 Chromebook", 379.99, 4.1, 1042, True, "orbit-14"),
    ("Orbit 12 Flip 2-in-1", 549.0, 3.9, 187, True, "orbit-12-flip"),
    ("Quanta 17 Workstation", 2899.0, 4.7, 41, False, "quanta-17"),
    ("Lumen 13 Ultrabook", 1099.0, 4.3, 265, True, "lumen-13"),
]


# --- product page: JSON-LD, microdata, meta tags, a specs table ----------------------------


@pytest.mark.parametrize(
    ("name", "schema", "expected"),
    [
        ("name", STRING, "Nimbus 14 Pro Laptop"),
        ("price", NUMBER, 1299.0),
        ("currency", STRING, "USD"),
        ("rating", NUMBER, 4.6),
        ("review_count", INTEGER, 328),
        ("in_stock", BOOLEAN, True),
        ("availability", STRING, "InStock"),
        ("brand", STRING, "Nimbus"),
        ("sku", STRING, "NB14P-16-512"),
        ("url", STRING, "https://demo.example/product/nimbus-14-pro"),
        ("image", STRING, "https://demo.example/img/nimbus-14-pro.jpg"),
        ("weight", STRING, "1.35 kg"),
        ("processor", STRING, "8-core Nimbus N3, up to 4.8 GHz"),
        ("warranty_years", {"type": "integer", "title": "Warranty"}, 2),
        ("cost", {"type": "string"}, "1299.00"),
    ],
)
def test_product_property(name: str, schema: dict[str, Any], expected: Any) -> None:
    assert extract("product.html", {"type": "object", "properties": {name: schema}}) == {name: expected}


def test_product_description_comes_from_structured_data() -> None:
    data = extract("product.html", obj(description=STRING))
    assert data["description"].startswith("A 14-inch laptop with a 2.8K OLED display")


def test_nested_objects_fill_from_sub_records_or_flat_fields() -> None:
    schema = obj(
        offer=obj(price=NUMBER, currency=STRING),
        specs=obj(memory=STRING, storage=STRING),
    )
    assert extract("product.html", schema) == {
        "offer": {"price": 1299.0, "currency": "USD"},
        "specs": {"memory": "16 GB LPDDR5", "storage": "512 GB NVMe SSD"},
    }


def test_pydantic_style_schema_with_refs_and_nullable_fields() -> None:
    schema = {
        "$defs": {"Offer": obj(["price"], price=NUMBER, priceCurrency=STRING)},
        "type": "object",
        "title": "Product",
        "properties": {
            "name": {"title": "Name", "type": "string"},
            "offers": {"$ref": "#/$defs/Offer"},
            "discount_code": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["name", "offers", "discount_code"],
    }
    assert extract("product.html", schema) == {
        "name": "Nimbus 14 Pro Laptop",
        "offers": {"price": 1299.0, "priceCurrency": "USD"},
        "discount_code": None,
    }


def test_enum_values_are_matched_ignoring_case_and_schema_org_prefix() -> None:
    schema = obj(availability={"type": "string", "enum": ["InStock", "OutOfStock", "PreOrder"]})
    assert extract("product.html", schema) == {"availability": "InStock"}


def test_list_schema_on_a_single_product_page_gives_that_product() -> None:
    schema = {"type": "array", "items": obj(name=STRING, price=NUMBER)}
    assert extract("product.html", schema) == [{"name": "Nimbus 14 Pro Laptop", "price": 1299.0}]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "number", "description": "price"}, 1299.0),
        ({"type": "string", "title": "brand"}, "Nimbus"),
        ({"type": "integer", "title": "Reviews"}, 328),
    ],
)
def test_primitive_schema_uses_its_title_or_description(schema: dict[str, Any], expected: Any) -> None:
    assert extract("product.html", schema) == expected


def test_primitive_schema_can_be_named_by_the_prompt() -> None:
    assert extract("product.html", {"type": "number"}, prompt="rating") == 4.6


# --- listing page: repeated sibling cards ---------------------------------------------------


CARD = obj(
    ["name", "price"], name=STRING, price=NUMBER, rating=NUMBER, reviews=INTEGER, url=STRING, in_stock=BOOLEAN
)


def test_listing_cards_become_records() -> None:
    data = extract("listing.html", {"type": "array", "items": CARD})
    expected = [
        {
            "name": name,
            "price": price,
            "rating": rating,
            "reviews": reviews,
            "url": f"https://demo.example/product/{slug}",
            "in_stock": in_stock,
        }
        for name, price, rating, reviews, in_stock, slug in LISTING
    ]
    assert data == expected


def test_object_with_one_list_property_and_a_page_field() -> None:
    schema = obj(
        heading=STRING,
        products={"type": "array", "items": obj(title=STRING, price=STRING), "maxItems": 3},
    )
    assert extract("listing.html", schema) == {
        "heading": "Laptops",
        "products": [
            {"title": "Nimbus 14 Pro Laptop", "price": "$1,299.00"},
            {"title": "Nimbus 13 Air Laptop", "price": "$899.00"},
            {"title": "Vertex 16 Creator Laptop", "price": "$2,149.99"},
        ],
    }


def test_list_of_strings_takes_each_record_name() -> None:
    assert extract("listing.html", {"type": "array", "items": STRING}) == [row[0] for row in LISTING]


def test_relative_links_stay_relative_without_a_url() -> None:
    data = extract_structured(demo_page("listing.html"), {"type": "array", "items": obj(url=STRING)})
    assert data[0] == {"url": "/product/nimbus-14-pro"}


# --- table page -------------------------------------------------------------------------------


CITY = obj(
    rank=INTEGER,
    city=STRING,
    country=STRING,
    population=INTEGER,
    area={"type": "number", "title": "Area (km²)"},
    growth=NUMBER,
    capital=BOOLEAN,
)


def test_table_rows_become_records_with_numbers_coerced() -> None:
    rows = extract("table.html", {"type": "array", "items": CITY})
    assert len(rows) == 10
    assert rows[0] == {
        "rank": 1,
        "city": "Stockholm",
        "country": "Sweden",
        "population": 984748,
        "area": 188.0,
        "growth": 12.5,
        "capital": True,
    }
    assert rows[-1]["city"] == "Reykjavík"
    assert [r["capital"] for r in rows] == [True] * 4 + [False] * 5 + [True]
    assert sum(r["population"] for r in rows) == 5091160


def test_table_under_an_object_property() -> None:
    data = extract("table.html", obj(cities={"type": "array", "items": obj(city=STRING, growth=NUMBER)}))
    assert data["cities"][7] == {"city": "Espoo", "growth": 20.3}


# --- article page: meta tags, byline, headings ------------------------------------------------


def test_article_metadata() -> None:
    schema = obj(
        title=STRING,
        author=STRING,
        published={"type": "string", "format": "date"},
        description=STRING,
        section=STRING,
        site_name=STRING,
        headings={"type": "array", "items": STRING},
    )
    assert extract("article.html", schema) == {
        "title": "Riverside approves 40 km of protected bike lanes",
        "author": "Maya Lindqvist",
        "published": "2024-05-14",
        "description": "Riverside city council voted 7-2 to build 40 km of protected bike lanes by 2027,"
        " funded by a regional transport grant.",
        "section": "Local",
        "site_name": "The Daily Harbor",
        "headings": [
            "Riverside approves 40 km of protected bike lanes",
            "What the network includes",
            "Opposition from shop owners",
            "What happens next",
        ],
    }


def test_prompt_breaks_the_tie_between_lists_of_links() -> None:
    schema = {"type": "array", "items": obj(title=STRING, url=STRING)}
    data = extract("article.html", schema, prompt="the trending stories in the sidebar")
    assert data == [
        {
            "title": "Harbor FC reach the cup final after penalty drama",
            "url": f"{BASE}sport/harbor-fc-cup-final",
        },
        {"title": "Port workers announce a two-day strike", "url": f"{BASE}business/port-strike"},
        {"title": "Storm warning issued for the weekend", "url": f"{BASE}weather/storm-warning"},
    ]


# --- inline pages: @graph, ItemList, microdata only -------------------------------------------


def ld_page(data: Any) -> str:
    script = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return f"<html><head>{script}</head><body></body></html>"


def test_json_ld_graph_and_item_list() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Books Inc", "url": "https://books.example/"},
            {
                "@type": "ItemList",
                "itemListElement": [
                    {
                        "@type": "ListItem",
                        "position": i,
                        "item": {"@type": "Book", "name": n, "url": f"/b/{i}"},
                    }
                    for i, n in enumerate(["Dune", "Emma", "Ulysses"], start=1)
                ],
            },
        ],
    }
    schema = {"type": "array", "items": obj(name=STRING, url=STRING)}
    assert extract_structured(ld_page(graph), schema, url="https://books.example/list") == [
        {"name": "Dune", "url": "https://books.example/b/1"},
        {"name": "Emma", "url": "https://books.example/b/2"},
        {"name": "Ulysses", "url": "https://books.example/b/3"},
    ]


def test_json_ld_top_level_list_and_broken_blocks_are_tolerated() -> None:
    html = '<script type="application/ld+json">{not json</script>' + ld_page(
        [
            {"@type": "Organization", "name": "Acme"},
            {"@type": "Event", "name": "Launch", "startDate": "2025-03-01"},
        ]
    )
    assert extract_structured(html, obj(start_date=STRING)) == {"start_date": "2025-03-01"}


def test_microdata_only_page() -> None:
    html = """<html><body><div itemscope itemtype="https://schema.org/Recipe">
      <h1 itemprop="name">Lemon cake</h1>
      <meta itemprop="totalTime" content="PT1H10M">
      <span itemprop="recipeYield">8 servings</span>
      <div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
        <span itemprop="ratingValue">4.9</span> from <span itemprop="ratingCount">1.2k</span> ratings
      </div></div></body></html>"""
    schema = obj(
        title=STRING, total_time=STRING, servings={"type": "integer", "title": "Recipe yield"}, stars=NUMBER
    )
    assert extract_structured(html, schema) == {
        "title": "Lemon cake",
        "total_time": "PT1H10M",
        "servings": 8,
        "stars": 4.9,
    }


def test_labelled_values_in_definition_lists_and_text() -> None:
    html = """<html><body><h1>Flat 4B</h1><dl><dt>Bedrooms</dt><dd>3</dd><dt>Balcony</dt><dd>Yes</dd></dl>
      <ul><li>Floor area: 84 m²</li><li>Monthly rent: €1.950</li></ul></body></html>"""
    schema = obj(bedrooms=INTEGER, balcony=BOOLEAN, floor_area=NUMBER)
    assert extract_structured(html, schema) == {"bedrooms": 3, "balcony": True, "floor_area": 84.0}


# --- errors -----------------------------------------------------------------------------------


def test_schema_matching_nothing_raises_a_useful_error() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract("product.html", obj(salary=NUMBER, employer=STRING))
    message = str(caught.value)
    assert "'salary'" in message
    assert "'employer'" in message
    assert "json-ld" in message
    assert "Try" in message


def test_list_schema_matching_nothing_raises() -> None:
    with pytest.raises(ExtractionError, match="'isbn'"):
        extract("table.html", {"type": "array", "items": obj(["isbn"], isbn=STRING)})


def test_missing_required_property_raises_naming_it() -> None:
    with pytest.raises(ExtractionError, match="required property 'salary'"):
        extract("product.html", obj(["salary"], salary=NUMBER, name=STRING))


def test_missing_optional_property_is_omitted() -> None:
    assert extract("product.html", obj(salary=NUMBER, name=STRING)) == {"name": "Nimbus 14 Pro Laptop"}


def test_missing_required_nullable_property_is_null() -> None:
    schema = obj(["salary"], salary={"type": ["number", "null"]}, name=STRING)
    assert extract("product.html", schema) == {"salary": None, "name": "Nimbus 14 Pro Laptop"}


def test_data_failing_validation_after_coercion_raises_with_the_reason() -> None:
    with pytest.raises(ExtractionError, match=r"1299\.0 is greater than the maximum of 100"):
        extract("product.html", obj(price={"type": "number", "maximum": 100}))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (["type", "object"], "must be a JSON object, got list"),
        ("object", "must be a JSON object, got str"),
        (None, "must be a JSON object, got NoneType"),
        ({"type": "strnig"}, "invalid JSON Schema at type"),
        ({"type": "object", "properties": []}, "invalid JSON Schema at properties"),
        ({"type": "object", "required": "name"}, "invalid JSON Schema at required"),
        ({"type": "array", "items": 3}, "invalid JSON Schema at items"),
    ],
)
def test_invalid_schemas_are_rejected(schema: object, message: str) -> None:
    with pytest.raises(InvalidSchemaError, match=message):
        check_schema(schema)


def test_extraction_rejects_an_invalid_schema_before_reading_the_page() -> None:
    with pytest.raises(InvalidSchemaError):
        extract("product.html", {"type": "object", "properties": {"price": {"type": "money"}}})


@pytest.mark.parametrize("schema", [{}, {"type": "object"}, CARD, CITY, {"type": "array", "items": STRING}])
def test_valid_schemas_pass(schema: dict[str, Any]) -> None:
    check_schema(schema)


# --- coercion and matching units --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("$1,299.00", 1299.0),
        ("12.5%", 12.5),
        ("★ 4.6 (328 reviews)", 4.6),
        ("1.2k ratings", 1200.0),
        ("−3.5 °C", -3.5),
        ("984\u00a0748 people", 984748.0),
        ("Up to 18 hours", 18.0),
        (42, 42.0),
    ],
)
def test_numbers_are_read_from_text(text: object, number: float) -> None:
    assert to_number(text) == number


@pytest.mark.parametrize("text", ["n/a", "", True, "five"])
def test_non_numbers_are_not_coerced(text: object) -> None:
    with pytest.raises(NotCoercible):
        to_number(text)


def test_integers_must_be_whole() -> None:
    assert to_integer("(1,042 reviews)") == 1042
    with pytest.raises(NotCoercible):
        to_integer("4.6")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("In stock", True),
        ("In stock — ships in 1-2 business days", True),
        ("https://schema.org/InStock", True),
        ("Out of stock", False),
        ("https://schema.org/OutOfStock", False),
        ("Sold out", False),
        ("Yes", True),
        ("no", False),
        (0, False),
    ],
)
def test_booleans_are_read_from_text(text: object, value: bool) -> None:
    assert to_boolean(text) is value


def test_every_synonym_belongs_to_one_concept() -> None:
    for concept, aliases in _CONCEPT_ALIASES.items():
        for alias in aliases:
            assert concept_of(alias) == concept, alias
