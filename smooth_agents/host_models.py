"""The caller's own model, lent to the embedded local server's browser agent.

An MCP host (Claude Desktop, an IDE assistant) may let a server ask its model for completions
(MCP sampling, with tools). With ``smooth-mcp --local-model host`` the MCP server opens a channel
for each client that offers that, and every task the client starts carries the channel's token in
its metadata (``HOST_MODEL_CHANNEL``); the browser agent of the embedded server finds the channel
by that token and drives the browser with the host's model. No provider key is involved.

This module is the meeting point only, with no dependency: the MCP side implements ``Sampler``
(``mcp_server.host_model``), the LangChain side turns a ``Sampler`` into a chat model
(``langchain_tools.host_model``). Messages cross it as plain JSON-shaped dicts:

- a message: ``{"role": "user" | "assistant", "content": [block, ...]}``
- a block: ``{"type": "text", "text": ...}``, ``{"type": "tool_use", "id", "name", "input"}`` or
  ``{"type": "tool_result", "tool_use_id", "text", "is_error"}``
- a tool: ``{"name", "description", "input_schema"}``
- an answer: ``{"content": [block, ...], "model": str, "stop_reason": str | None}``
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Protocol

# The local model setting (``--local-model host``) that means: the model of whoever calls.
HOST_MODEL = "host"
# The task metadata key carrying the token of the caller's channel.
HOST_MODEL_CHANNEL = "host_model_channel"

NO_CHANNEL = (
    "This task is meant for the MCP host's own model (smooth-mcp --local-model host), but the MCP "
    "client that started it did not lend one: the client must declare sampling with tools (the "
    "sampling.tools capability), and either speak protocol 2026-07-28 (its tool calls carry the "
    "model's turns) or keep a connection (the initialize handshake over stdio, SSE or streamable "
    "HTTP without --stateless). Or give smooth-mcp a model of its own: --local-model provider:model."
)


class Sampler(Protocol):
    """Asks a model for its next turn."""

    async def sample(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]: ...


class HostModels:
    """The open channels to callers' models, by token. Given as the embedded server's model (the
    browser agent looks a task's channel up here) and held by the MCP server (which opens one per
    client connection, closed when the connection ends, or, under protocol 2026-07-28, one per
    caller)."""

    def __init__(self) -> None:
        self._channels: dict[str, Sampler] = {}

    def __repr__(self) -> str:
        return f"HostModels({len(self._channels)} open)"

    def open(self, sampler: Sampler) -> str:
        token = "hm_" + secrets.token_urlsafe(18)
        self._channels[token] = sampler
        return token

    def close(self, token: str) -> None:
        self._channels.pop(token, None)

    def for_task(self, metadata: Mapping[str, Any]) -> Sampler:
        """The channel a task's metadata names; ``LookupError`` with what to do when there is none."""
        token = metadata.get(HOST_MODEL_CHANNEL)
        sampler = self._channels.get(token) if isinstance(token, str) else None
        if sampler is None:
            raise LookupError(NO_CHANNEL)
        return sampler

    def __len__(self) -> int:
        return len(self._channels)


__all__ = ["HOST_MODEL", "HOST_MODEL_CHANNEL", "HostModels", "Sampler"]
