"""Arguments through the LangChain tools: passed as given, validated once, errors that name the field."""

from __future__ import annotations

import pytest
from langchain_core.messages import ToolMessage

from langchain_tools import SmoothSessionEvaluateJsTool, SmoothSessionListTool
from smooth_agents.agent_tools import BlockingToolRuntime


def invoke(tool: object, arguments: dict[str, object]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": "x", "args": arguments})  # type: ignore[attr-defined]
    assert isinstance(message, ToolMessage)
    return message


def test_unknown_arguments_are_refused(lc_runtime: BlockingToolRuntime) -> None:
    message = invoke(SmoothSessionListTool(runtime=lc_runtime), {"verbose": True})
    assert message.status == "error"
    assert "verbose: Extra inputs are not permitted" in str(message.content)


@pytest.mark.parametrize(
    ("arguments", "field", "reason"),
    [
        ({"code": "1"}, "session_id", "Field required"),
        ({"session_id": "s", "code": 5}, "code", "valid string"),
        ({"session_id": "s", "code": "1", "args": "[1"}, "args", "not JSON"),
        ({"session_id": "s", "code": "1", "args": "[1, 2]"}, "args", "must be a JSON object"),
    ],
)
def test_input_errors_name_the_field_and_the_reason(
    lc_runtime: BlockingToolRuntime, arguments: dict[str, object], field: str, reason: str
) -> None:
    message = invoke(SmoothSessionEvaluateJsTool(runtime=lc_runtime), arguments)
    assert message.status == "error"
    text = str(message.content)
    assert f"{field}:" in text
    assert reason in text
    assert ".." not in text
