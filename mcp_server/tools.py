"""The adapter: each core tool definition registered as an MCP tool, nothing re-described.

The published input schema is the core definition's own, and the arguments a client sends reach
the core as sent: the SDK's argument model (which pre-parses strings that look like JSON and drops
unknown names) is bypassed, so the core validates once and refuses what it does not know. Every
call answers with the core renderer's text and ``structuredContent`` (checked against the tool's
``outputSchema``); a ``ToolFailure`` becomes an ``isError`` result carrying its message; progress
from the core goes out as MCP progress notifications; the person behind the client is reached by
elicitation (``person``).
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from smooth_agents.agent_tools import ToolDefinition, ToolFailure, ToolRuntime
from smooth_agents.host_models import HostModels

from .callers import caller_of
from .host_model import host_channel
from .person import McpPerson


def annotations_of(definition: ToolDefinition[Any, Any]) -> ToolAnnotations:
    hints = definition.hints
    return ToolAnnotations(
        title=definition.title,
        read_only_hint=hints.read_only,
        destructive_hint=hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


class VerbatimTool(Tool):
    """An MCP tool whose function receives the client's arguments untouched."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            result = await self.fn(context, arguments)
            return self.fn_metadata.convert_result(result) if convert_result else result
        except (ToolError, MCPError):
            raise
        except Exception as exc:  # a bug: its text stays in the server's log
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc


def mcp_tool(
    definition: ToolDefinition[Any, Any],
    runtime: ToolRuntime,
    *,
    host_models: HostModels | None = None,
) -> Tool:
    """One MCP tool for one core definition (``host_models``: tasks the call starts may use the
    caller's own model)."""

    async def call(ctx: Context, arguments: dict[str, Any]) -> CallToolResult:
        async def report(message: str, progress: float | None = None, total: float | None = None) -> None:
            await ctx.report_progress(progress if progress is not None else 0.0, total, message)

        try:
            result = await runtime.invoke(
                definition,
                arguments,
                report,
                owner=caller_of(ctx, await runtime.owner_key()),
                task_metadata=host_channel(ctx, host_models) if host_models is not None else None,
                person=McpPerson(ctx),
            )
        except ToolFailure as failure:
            raise ToolError(str(failure)) from None
        rendered = definition.render(result, runtime.settings.content_budget)
        return CallToolResult(
            content=[TextContent(type="text", text=rendered.text)],
            structured_content=rendered.structured,
        )

    async def template(ctx: Context) -> CallToolResult:
        raise NotImplementedError  # only its signature is read: it gives the output schema

    template.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)],
        return_annotation=Annotated[CallToolResult, definition.output_model],
    )
    description = definition.describe(runtime.settings)
    built = Tool.from_function(
        template,
        name=definition.name,
        title=definition.title,
        description=description,
        annotations=annotations_of(definition),
    )
    fields = {name: getattr(built, name) for name in Tool.model_fields}
    fields.update(
        fn=call,
        parameters=definition.input_schema(),
        context_kwarg=None,
        # Validation still runs against the output model; hosts see the schema without titles.
        fn_metadata=built.fn_metadata.model_copy(update={"output_schema": definition.output_schema()}),
    )
    return VerbatimTool(**fields)
