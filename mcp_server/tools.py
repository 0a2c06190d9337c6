"""The adapter: each core tool definition registered as an MCP tool, nothing re-described.

Every call returns ``structuredContent`` (validated against the tool's ``outputSchema``) plus the
definition's short text form; a ``ToolFailure`` becomes an ``isError`` result carrying its
message; progress from the core goes out as MCP progress notifications.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from smooth_agents.agent_tools import ToolContext, ToolDefinition, ToolFailure

from .runtime import ToolRuntime

# Every argument defaults to None, meaning "not given": no core input takes null, so an explicit
# null is dropped the same way and the core's defaults apply.


def _parameters(definition: ToolDefinition[Any, Any]) -> list[inspect.Parameter]:
    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for name, info in definition.input_model.model_fields.items():
        params.append(
            inspect.Parameter(
                info.alias or name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Any
            )
        )
    return params


def annotations_of(definition: ToolDefinition[Any, Any]) -> ToolAnnotations:
    hints = definition.hints
    return ToolAnnotations(
        title=definition.title,
        read_only_hint=hints.read_only,
        destructive_hint=hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


def mcp_tool(definition: ToolDefinition[Any, Any], runtime: ToolRuntime) -> Tool:
    """One MCP tool for one core definition."""

    async def call(ctx: Context, **arguments: Any) -> CallToolResult:
        given = {k: v for k, v in arguments.items() if v is not None}

        async def report(message: str, progress: float | None = None, total: float | None = None) -> None:
            await ctx.report_progress(progress if progress is not None else 0.0, total, message)

        context: ToolContext = runtime.context(report)
        try:
            result = await definition.invoke(context, given)
        except ToolFailure as failure:
            raise ToolError(str(failure)) from None
        return CallToolResult(
            content=[TextContent(type="text", text=definition.summarize(result))],
            structured_content=result.model_dump(mode="json", by_alias=True),
        )

    description = definition.describe(runtime.settings.tools.embedded)
    call.__name__ = definition.name
    call.__doc__ = description
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        _parameters(definition),
        return_annotation=Annotated[CallToolResult, definition.output_model],
    )
    tool = Tool.from_function(
        call,
        name=definition.name,
        title=definition.title,
        description=description,
        annotations=annotations_of(definition),
    )
    # The advertised input schema is the core's model, exactly (validation happens there too).
    tool.parameters = definition.input_model.model_json_schema(by_alias=True)
    return tool
