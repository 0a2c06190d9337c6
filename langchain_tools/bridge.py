"""LangChain tools offered to the remote Smooth agent as custom tools, run here on ``tool_call``."""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from smooth_agents.custom_tools import CustomTool


def as_custom_tool(tool: BaseTool) -> CustomTool:
    """The agent sees the tool's name, description and argument schema; each call runs it once."""
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        input_schema: dict[str, Any] = dict(schema)
    elif issubclass(schema, BaseModel):
        input_schema = schema.model_json_schema()
    else:  # a pydantic v1 model, from an older tool
        input_schema = dict(schema.schema())
    input_schema.pop("title", None)
    input_schema.pop("description", None)

    async def call(**arguments: Any) -> Any:
        result = await tool.ainvoke(arguments)
        return result.content if hasattr(result, "content") else result

    return CustomTool(
        name=tool.name,
        description=tool.description,
        input_schema=input_schema,
        fn=call,
        output_description="The tool's answer.",
        # A LangChain tool reports its own failures as text when it handles errors; one that
        # raises is a failure the agent may work around, not a reason to end the task.
        essential=False,
    )
