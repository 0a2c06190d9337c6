"""The one JSON-schema check: references resolve inside the schema only, loops are bad input.

The same functions serve the client (before a request is sent), the tools, the local server's
check at submission, its extraction and the model agent's answers; the network side (nothing is
fetched through any of them) is tested end to end in tests/local/test_schema_refs.py and
tests/mcp/test_schema_refs.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from smooth_agents.json_schemas import (
    MAX_REFERENCE_CHAIN,
    SchemaRefs,
    json_schema_mismatch,
    json_schema_problem,
)

TREE = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    "required": ["name"],
}


def chain(links: int) -> dict[str, Any]:
    """A schema whose value is checked through ``links`` references, one after another."""
    defs: dict[str, Any] = {f"a{i}": {"$ref": f"#/$defs/a{i + 1}"} for i in range(links - 1)}
    return {"$defs": {**defs, f"a{links - 1}": {"type": "string"}}, "$ref": "#/$defs/a0"}


# Each refused schema: where the problem is, and what its message must name.
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "remote",
        {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/schema.json?d=SECRET"}}},
        "properties/a",
        "'http://127.0.0.1:9/schema.json?d=SECRET' points outside the schema",
    ),
    ("relative", {"$ref": "other.json"}, "", "'other.json' points outside the schema"),
    (
        "relative to a remote $id",
        {"$id": "http://127.0.0.1:9/root.json", "properties": {"a": {"$ref": "more.json#/x"}}},
        "properties/a",
        "'more.json#/x' points outside the schema",
    ),
    (
        "a meta-schema (bundled, but still outside)",
        {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        "",
        "points outside the schema",
    ),
    ("dangling pointer", {"$ref": "#/$defs/nope"}, "", "'#/$defs/nope' does not resolve"),
    ("unknown anchor", {"properties": {"a": {"$ref": "#nowhere"}}}, "properties/a", "'#nowhere'"),
    (
        "a value, not a schema",
        {"properties": {"a": {"$ref": "#/required"}}, "required": []},
        "properties/a",
        "a list",
    ),
    (
        "into a default no check read as a schema",
        {"properties": {"a": {"$ref": "#/properties/b/default"}, "b": {"default": {"$schema": 5}}}},
        "properties/a",
        "points at an invalid schema",
    ),
    ("itself", {"$ref": "#"}, "", "'#' is part of a loop"),
    (
        "a pair",
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        "$defs/a",
        "'#/$defs/b' is part of a loop",
    ),
    ("through allOf", {"allOf": [{"$ref": "#"}]}, "allOf/0", "'#' is part of a loop"),
    (
        "through anyOf, with a way out",
        {"$defs": {"a": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
        "$defs/a/anyOf/1",
        "is part of a loop",
    ),
    (
        "draft-07 definitions",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"a": {"$ref": "#/definitions/a"}},
            "properties": {"x": {"$ref": "#/definitions/a"}},
        },
        "definitions/a",
        "is part of a loop",
    ),
    ("a dynamic loop", {"$dynamicAnchor": "n", "allOf": [{"$dynamicRef": "#n"}]}, "allOf/0", "$dynamicRef"),
    ("a long chain", chain(MAX_REFERENCE_CHAIN + 1), "", f"more than {MAX_REFERENCE_CHAIN}"),
    ("a $schema that is no URI", {"$schema": 5}, "$schema", "URI"),
]


@pytest.mark.parametrize(("schema", "where", "names"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_references_that_leave_the_schema_dangle_or_loop_are_refused(
    schema: dict[str, Any], where: str, names: str
) -> None:
    problem = json_schema_problem(schema)
    assert problem is not None
    assert problem[0] == where
    assert names in problem[1]


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("a tree", TREE),
    ("definitions", {"$defs": {"m": {"type": "number"}}, "properties": {"p": {"$ref": "#/$defs/m"}}}),
    ("an anchor", {"$defs": {"m": {"$anchor": "money", "type": "number"}}, "items": {"$ref": "#money"}}),
    (
        "an $id of its own",
        {
            "$id": "http://example.com/s.json",
            "properties": {"a": {"$ref": "s.json#/$defs/x"}},
            "$defs": {"x": {}},
        },
    ),
    (
        "a dynamic tree",
        {"$dynamicAnchor": "node", "properties": {"kids": {"items": {"$dynamicRef": "#node"}}}},
    ),
    ("a chain at the limit", chain(MAX_REFERENCE_CHAIN)),
]


@pytest.mark.parametrize("schema", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_references_inside_the_schema_and_recursion_through_the_data_are_fine(schema: dict[str, Any]) -> None:
    assert json_schema_problem(schema) is None


def test_data_is_checked_through_local_references_and_recursion() -> None:
    assert json_schema_mismatch({"name": "a", "children": [{"name": "b", "children": []}]}, TREE) is None
    assert json_schema_mismatch({"name": "a", "children": [{"name": 2}]}, TREE) == (
        "children/0/name",
        "2 is not of type 'string'",
    )


def test_data_deeper_than_the_check_can_follow_is_a_mismatch_not_a_crash() -> None:
    deep: dict[str, Any] = {"name": "leaf"}
    for _ in range(2_000):
        deep = {"name": "n", "children": [deep]}
    mismatch = json_schema_mismatch(deep, TREE)
    assert mismatch is not None
    assert "nested too deeply" in mismatch[1]


def test_a_remote_reference_nobody_checked_is_a_mismatch_and_fetches_nothing() -> None:
    # Port 9 (discard) on loopback: were it fetched, the answer would be a connection error.
    mismatch = json_schema_mismatch("x", {"$ref": "http://127.0.0.1:9/schema.json"})
    assert mismatch == (
        "",
        "the schema's reference 'http://127.0.0.1:9/schema.json' does not resolve inside the schema",
    )


def test_a_part_of_a_schema_is_checked_with_the_whole_schema_s_references() -> None:
    root = {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}
    part = root["properties"]["a"]
    assert json_schema_mismatch(3, part, root=root) is None
    assert json_schema_mismatch("three", part, root=root) == ("", "'three' is not of type 'integer'")


def test_the_extraction_looks_references_up_with_the_same_resolver() -> None:
    schema = {
        "$defs": {"m": {"$anchor": "money", "type": "number"}},
        "properties": {"a": {"$ref": "#/$defs/m"}},
    }
    refs = SchemaRefs(schema)
    assert refs.lookup("#money") == {"$anchor": "money", "type": "number"}
    assert refs.lookup("#/$defs/m") is schema["$defs"]["m"]
    assert refs.lookup("http://127.0.0.1:9/schema.json") is None
    assert refs.lookup("#/$defs/nope") is None
