"""Argument schemas every major provider accepts, and the types behind them.

The published schema of a tool keeps to what OpenAI strict function calling, Anthropic tool use
and Gemini function declarations all accept: plain types, descriptions, enums, arrays of strings,
numeric bounds; no ``default``, no string lengths, no free-form objects (OpenAI strict turns an
object without properties into ``{}`` only, Gemini drops it). So a free-form JSON argument (a JSON
schema, a script's arguments) is published as a string holding JSON text; the core takes it as
text or as an object alike. An empty value means "not given" (strict mode makes every argument
required, so a model must be able to say "nothing" without null).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, WithJsonSchema

# Keywords kept in a published schema; anything else pydantic writes is dropped.
_KEPT = frozenset(
    {"type", "description", "properties", "required", "items", "enum", "additionalProperties"}
    | {"minimum", "maximum"}
)


def _json_object(value: Any) -> Any:
    """A JSON object given as an object or as its JSON text ("" means none)."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(
                f"must be a JSON object or its JSON text; the text is not JSON ({exc})"
            ) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object, not {type(value).__name__}")
    return value


# A free-form JSON object argument (a JSON schema, a script's arguments), published as a string
# of JSON text; the field's own description says what goes in it.
JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_object), WithJsonSchema({"type": "string"})]


def published_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The input schema a model is shown: ``model``'s, in the subset every provider accepts."""
    raw = model.model_json_schema(by_alias=True)
    cleaned = _clean(raw)
    cleaned["additionalProperties"] = False
    cleaned.setdefault("properties", {})
    cleaned.setdefault("required", [])
    return cleaned


def _clean(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEPT:
            continue
        if key == "properties":
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = _clean(value)
        else:
            out[key] = value
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def published_output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The output schema a host is shown: ``model``'s, without the titles pydantic derives from
    field names (they repeat the names and lengthen every tools/list)."""
    schema: dict[str, Any] = _drop_titles(model.model_json_schema(by_alias=True, mode="serialization"))
    return schema


def _drop_titles(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_drop_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            cleaned[key] = {name: _drop_titles(sub) for name, sub in value.items()}
        else:
            cleaned[key] = _drop_titles(value)
    return cleaned
