"""What a model reads through the LangChain tools names what it can call: the tools' own names
and arguments (the same as over MCP), not the HTTP contract's."""

from __future__ import annotations

from langchain_core.messages import ToolMessage

from langchain_tools import SmoothBrowseTool
from smooth_agents.agent_tools import BlockingToolRuntime


def test_the_readers_no_model_failure_names_the_tools_and_arguments(lc_runtime: BlockingToolRuntime) -> None:
    message = SmoothBrowseTool(runtime=lc_runtime).invoke(
        {"type": "tool_call", "id": "c1", "name": "smooth_browse", "args": {"task": "book me a flight"}}
    )
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    text = str(message.content)
    assert "The built-in reader has no model" in text
    for name in ("`url`", "`response_schema`", "`smooth_session_goto`", "`smooth_session_evaluate_js`"):
        assert name in text, name
    for name in ("`response_model`", "`goto`", "`evaluate_js`", "smooth-mcp"):
        assert name not in text, name
