"""The MCP host's own model, lent to the embedded browser agent (``smooth-mcp --local-model host``).

A client that declares sampling with tools (``sampling.tools``) and keeps a connection (the
initialize handshake) gets a channel when it first calls a tool; the tasks it starts carry the
channel's token (``smooth_agents.host_models``), and the browser agent's model turns become
``sampling/createMessage`` requests to that client. The channel closes with the connection.

Requests go on the connection, not on the tool call that started the task: a task outlives its
call when the call answers "running", and a request tied to a finished call has nowhere to go.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.session import ServerSession
from mcp.server.validation import check_sampling_tools_capability
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    CreateMessageResultWithTools,
    SamplingMessage,
    TextContent,
    Tool,
    ToolChoice,
    ToolResultContent,
    ToolUseContent,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from smooth_agents.host_models import HOST_MODEL_CHANNEL, HostModels

CHANNEL_KEY = "smooth_agents.host_model"
log = logging.getLogger("smooth_agents.mcp")


class SessionSampler:
    """``Sampler`` over one client connection: each turn is a ``sampling/createMessage`` request."""

    def __init__(self, session: ServerSession) -> None:
        self._session = session
        # The agent may run on another loop (a local server on a thread of its own): requests are
        # sent from the connection's loop.
        self._loop = asyncio.get_running_loop()

    async def sample(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        if asyncio.get_running_loop() is not self._loop:
            sent = asyncio.run_coroutine_threadsafe(
                self.sample(messages, system=system, tools=tools, max_tokens=max_tokens), self._loop
            )
            return await asyncio.wrap_future(sent)
        with warnings.catch_warnings():
            # Sampling is deprecated from protocol 2026-07-28, and this channel is only opened for
            # clients on earlier versions, where it is the protocol's way; the warning is raised
            # when the call is made, so only the call is covered.
            warnings.filterwarnings("ignore", category=MCPDeprecationWarning)
            request = self._session.create_message(
                [sampling_message(m) for m in messages],
                max_tokens=max_tokens,
                system_prompt=system or None,
                tools=[
                    Tool(name=t["name"], description=t.get("description"), input_schema=t["input_schema"])
                    for t in tools
                ],
                tool_choice=ToolChoice(mode="auto"),
            )
        answer: CreateMessageResultWithTools = await request
        return {
            "content": [block_of(part) for part in answer.content_as_list],
            "model": answer.model,
            "stop_reason": answer.stop_reason,
        }


def sampling_message(message: dict[str, Any]) -> SamplingMessage:
    content: list[Any] = []
    for block in message["content"]:
        kind = block["type"]
        if kind == "text":
            content.append(TextContent(text=block["text"]))
        elif kind == "tool_use":
            content.append(ToolUseContent(id=block["id"], name=block["name"], input=block["input"]))
        elif kind == "tool_result":
            content.append(
                ToolResultContent(
                    tool_use_id=block["tool_use_id"],
                    content=[TextContent(text=block["text"])],
                    is_error=bool(block.get("is_error")) or None,
                )
            )
        else:
            raise ValueError(f"unknown message block {kind!r}")
    return SamplingMessage(role=message["role"], content=content)


def block_of(part: Any) -> dict[str, Any]:
    if isinstance(part, TextContent):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolUseContent):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": dict(part.input)}
    # Images or audio in a model's answer say nothing the browser agent can act on.
    return {"type": "text", "text": f"({getattr(part, 'type', 'unknown')} content left out)"}


def host_channel(ctx: Context, models: HostModels) -> dict[str, str]:
    """Task metadata naming this caller's channel, opened on its first call; empty when the caller
    lends no model (no ``sampling.tools``, or no lasting connection to send requests on)."""
    if ctx.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        return {}
    session = ctx.request_context.session
    if not check_sampling_tools_capability(session.client_capabilities):
        return {}
    connection = getattr(session, "_connection", None)  # see callers.caller_of
    if connection is None:
        log.warning("the MCP connection is not reachable: the host's model is not used")
        return {}
    token = connection.state.get(CHANNEL_KEY)
    if not isinstance(token, str):
        token = models.open(SessionSampler(session))
        connection.state[CHANNEL_KEY] = token
        connection.exit_stack.callback(models.close, token)
    return {HOST_MODEL_CHANNEL: token}
