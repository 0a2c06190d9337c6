"""Every tool's argument schema converts, with its meaning intact, under OpenAI strict function
calling, Anthropic tool use and Gemini function declarations (the providers' own LangChain
converters, offline), and arguments in the shape a strict model sends round-trip through the core.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from langchain_anthropic.chat_models import convert_to_anthropic_tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_google_genai._function_utils import convert_to_genai_function_declarations

from langchain_tools import ALL_TOOL_CLASSES, SmoothExtractTool, SmoothToolkit
from langchain_tools.base import SmoothTool
from smooth_agents.agent_tools.errors import validate_input
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer

TOOLS = [cls(api_key="sk-schemas") for cls in ALL_TOOL_CLASSES]

# OpenAI structured outputs / strict function calling: the keywords it documents as supported.
OPENAI_STRICT_KEYWORDS = {
    "type", "description", "properties", "required", "additionalProperties", "items", "enum",
    "anyOf", "$ref", "$defs", "const", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
}  # fmt: skip
GEMINI_TYPES = {
    "string": "STRING",
    "integer": "INTEGER",
    "number": "NUMBER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
}


def walk(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sub-schema, the root first."""
    found = [schema]
    for sub in schema.get("properties", {}).values():
        found += walk(sub)
    if isinstance(schema.get("items"), dict):
        found += walk(schema["items"])
    return found


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_openai_strict_keeps_every_argument_and_obeys_the_subset(tool: SmoothTool) -> None:
    published = tool.definition.input_schema()
    parameters = convert_to_openai_tool(tool, strict=True)["function"]["parameters"]
    assert set(parameters["properties"]) == set(published["properties"])
    for sub in walk(parameters):
        assert set(sub) <= OPENAI_STRICT_KEYWORDS, sub
        if sub.get("type") == "object":
            # Strict mode: every property required, nothing else allowed, and no free-form
            # object the model could only fill with {}.
            assert sub["additionalProperties"] is False
            assert set(sub["required"]) == set(sub["properties"])
            assert sub["properties"] or sub is parameters
        assert "type" in sub
    for name, sub in parameters["properties"].items():
        assert sub["description"], name
        assert sub["type"] == published["properties"][name]["type"]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_anthropic_tool_use_keeps_the_schema(tool: SmoothTool) -> None:
    converted = convert_to_anthropic_tool(tool)
    assert converted["name"] == tool.name
    assert converted["description"] == tool.description
    schema = converted["input_schema"]
    assert schema["type"] == "object"
    assert schema["properties"] == tool.definition.input_schema()["properties"]
    assert set(schema.get("required", [])) == set(tool.definition.input_schema()["required"])


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_gemini_function_declarations_keep_every_argument(
    tool: SmoothTool, caplog: pytest.LogCaptureFixture
) -> None:
    published = tool.definition.input_schema()
    with caplog.at_level(logging.WARNING):
        declaration = convert_to_genai_function_declarations([tool])[0].function_declarations[0]
    # The only key Gemini's subset lacks is additionalProperties (dropped, said in a log line).
    dropped = {r.getMessage() for r in caplog.records}
    assert dropped <= {"Key 'additionalProperties' is not supported in schema, ignoring"}
    assert declaration.name == tool.name
    properties = declaration.parameters.properties if declaration.parameters else {}
    assert set(properties or {}) == set(published["properties"])
    for name, sub in (properties or {}).items():
        expected = published["properties"][name]
        assert sub.type.value == GEMINI_TYPES[expected["type"]], name  # type: ignore[union-attr]
        assert sub.description == expected["description"]
        if "enum" in expected:
            assert sub.enum == expected["enum"]
        if expected["type"] == "array":
            assert sub.items is not None
            assert sub.items.type.value == "STRING"  # type: ignore[union-attr]
    required = declaration.parameters.required if declaration.parameters else None
    assert set(required or []) == set(published["required"])


def strict_call(tool: SmoothTool, given: dict[str, Any]) -> dict[str, Any]:
    """The arguments a strict model sends: every property, "nothing" as an empty value."""
    empty = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}
    arguments = {}
    for name, sub in tool.definition.input_schema()["properties"].items():
        arguments[name] = given.get(name, sub["enum"][0] if "enum" in sub else empty[sub["type"]])
    return arguments


MINIMAL = {
    "smooth_browse": {"task": "read it", "url": "http://127.0.0.1/"},
    "smooth_extract": {"url": "http://127.0.0.1/", "json_schema": '{"type": "object"}'},
    "smooth_map": {"url": "http://127.0.0.1/"},
    "smooth_crawl": {"url": "http://127.0.0.1/"},
    "smooth_session_open": {},
    "smooth_session_goto": {"session_id": "s1", "url": "http://127.0.0.1/"},
    "smooth_session_extract": {"session_id": "s1", "json_schema": '{"type": "object"}'},
    "smooth_session_evaluate_js": {"session_id": "s1", "code": "1"},
    "smooth_session_run_task": {"session_id": "s1", "task": "read it"},
    "smooth_session_handoff": {"session_id": "s1", "message": "Sign in"},
    "smooth_session_close": {"session_id": "s1"},
    "smooth_session_list": {},
    "smooth_task_status": {"task_id": "t1"},
    "smooth_task_cancel": {"task_id": "t1"},
    "smooth_profile_create": {},
    "smooth_profile_list": {},
    "smooth_profile_delete": {"profile_id": "p1"},
    "smooth_file_upload": {"path": "/tmp/x"},
}


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_a_strict_shaped_call_means_what_the_minimal_call_means(tool: SmoothTool) -> None:
    minimal = MINIMAL[tool.name]
    assert validate_input(tool.definition, strict_call(tool, minimal)) == validate_input(
        tool.definition, minimal
    )


def test_a_strict_shaped_call_runs_through_the_tool(local_server: ThreadedServer, site: SiteServer) -> None:
    with SmoothToolkit(api_key=API_KEY, base_url=local_server.base_url) as toolkit:
        extract = next(t for t in toolkit.get_tools() if isinstance(t, SmoothExtractTool))
        schema = {"type": "object", "properties": {"price": {"type": "number"}}}
        arguments = strict_call(
            extract, {"url": site.url("demo/product.html"), "json_schema": json.dumps(schema)}
        )
        message = extract.invoke({"type": "tool_call", "id": "c1", "name": extract.name, "args": arguments})
        assert message.artifact["data"] == {"price": 1299.0}
        assert '{"price":1299.0}' in message.content
