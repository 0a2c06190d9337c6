"""Reading JSON Schemas: validity, $ref resolution inside the schema, what kind of value a schema wants."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...json_schemas import SchemaRefs, json_schema_mismatch, json_schema_problem
from .errors import ExtractionError, InvalidSchemaError

Schema = Mapping[str, Any]


def check_schema(schema: object) -> None:
    """Raise InvalidSchemaError unless ``schema`` is a dict holding a valid JSON Schema."""
    if not isinstance(schema, dict):
        raise InvalidSchemaError(f"schema must be a JSON object, got {type(schema).__name__}")
    problem = json_schema_problem(schema)
    if problem is not None:
        where, message = problem
        raise InvalidSchemaError(f"invalid JSON Schema at {where or '(root)'}: {message}")


def validate(data: Any, schema: Schema) -> None:
    """Raise ExtractionError with the validation message if ``data`` does not conform."""
    mismatch = json_schema_mismatch(data, schema)
    if mismatch is not None:
        where, message = mismatch
        raise ExtractionError(f"extracted data does not match the schema at {where or '(root)'}: {message}")


class SchemaReader:
    """Answers questions about sub-schemas, following ``$ref``s inside the root (the one resolver
    the schema check and the validation use: nothing outside the schema is fetched)."""

    def __init__(self, root: Schema) -> None:
        self.root = root
        self._refs = SchemaRefs(root)

    def resolve(self, schema: Any) -> Schema:
        """``schema`` with ``$ref`` followed and ``allOf`` members merged in."""
        if not isinstance(schema, Mapping):
            return {}
        current: Schema = schema
        seen: set[str] = set()
        while isinstance(current.get("$ref"), str) and current["$ref"] not in seen:
            seen.add(current["$ref"])
            rest = {k: v for k, v in current.items() if k != "$ref"}
            current = {**self._pointer(current["$ref"]), **rest}
        if isinstance(current.get("allOf"), list):
            merged = {k: v for k, v in current.items() if k != "allOf"}
            for member in current["allOf"]:
                merged = _merge(self.resolve(member), merged)
            current = merged
        return current

    def _pointer(self, ref: str) -> Schema:
        found = self._refs.lookup(ref)
        # A reference that points nowhere (refused at submission) constrains nothing here.
        return found if isinstance(found, Mapping) else {}

    def variants(self, schema: Any) -> list[Schema]:
        """The non-null alternatives a value may take, most specific first."""
        resolved = self.resolve(schema)
        options = resolved.get("anyOf") or resolved.get("oneOf")
        if isinstance(options, list):
            base = {k: v for k, v in resolved.items() if k not in ("anyOf", "oneOf")}
            found: list[Schema] = []
            for option in options:
                found.extend(self.variants({**base, **self.resolve(option)}))
            return found
        if self.types(resolved) == ["null"]:
            return []
        return [resolved]

    def allows_null(self, schema: Any) -> bool:
        resolved = self.resolve(schema)
        options = resolved.get("anyOf") or resolved.get("oneOf")
        if isinstance(options, list):
            return any(self.allows_null(option) for option in options)
        return "null" in self.types(resolved) or ("enum" in resolved and None in resolved["enum"])

    @staticmethod
    def types(schema: Schema) -> list[str]:
        declared = schema.get("type")
        if isinstance(declared, str):
            return [declared]
        if isinstance(declared, list):
            return [t for t in declared if isinstance(t, str)]
        if "properties" in schema:
            return ["object"]
        if "items" in schema:
            return ["array"]
        return []

    def kind(self, schema: Any) -> str:
        """``object``, ``array``, a primitive type name, or ``any``."""
        for variant in self.variants(schema):
            for type_name in self.types(variant) or ["any"]:
                if type_name != "null":
                    return type_name
        return "any"

    def first_variant_of_kind(self, schema: Any, kind: str) -> Schema:
        for variant in self.variants(schema):
            if kind in self.types(variant) or (kind == "any" and not self.types(variant)):
                return variant
        return self.resolve(schema)

    def properties(self, schema: Schema) -> dict[str, Any]:
        props = schema.get("properties")
        return dict(props) if isinstance(props, Mapping) else {}

    def required(self, schema: Schema) -> list[str]:
        names = schema.get("required")
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def items(self, schema: Schema) -> Schema:
        return self.resolve(schema.get("items", {}))

    def is_array_of_objects(self, schema: Any) -> bool:
        if self.kind(schema) != "array":
            return False
        return self.kind(self.items(self.first_variant_of_kind(schema, "array"))) == "object"


def _merge(base: Schema, override: Schema) -> dict[str, Any]:
    """``override`` on top of ``base``, with their ``properties`` combined."""
    merged = {**base, **override}
    if "properties" in base or "properties" in override:
        merged["properties"] = {**base.get("properties", {}), **override.get("properties", {})}
    return merged
