"""What a ``sampling/createMessage`` request and its answer are, from and to the plain mappings of
``smooth_agents.host_models``, and ``LoopSampler``, the base of the samplers that send them."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp_types import (
    CreateMessageResultWithTools,
    SamplingMessage,
    TextContent,
    Tool,
    ToolResultContent,
    ToolUseContent,
)


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


def answer_of(answer: CreateMessageResultWithTools) -> dict[str, Any]:
    return {
        "content": [block_of(part) for part in answer.content_as_list],
        "model": answer.model,
        "stop_reason": answer.stop_reason,
    }


def tools_of(tools: list[dict[str, Any]]) -> list[Tool]:
    return [
        Tool(name=t["name"], description=t.get("description"), input_schema=t["input_schema"]) for t in tools
    ]


class LoopSampler:
    """A ``Sampler`` whose requests leave from the loop it was made on: the agent may run on
    another (a local server on a thread of its own)."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def sample(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        asking = self.ask(messages, system=system, tools=tools, max_tokens=max_tokens)
        if asyncio.get_running_loop() is self._loop:
            return await asking
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(asking, self._loop))

    async def ask(
        self,
        messages: list[dict[str, Any]],
        *,
        system: str,
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> dict[str, Any]:
        raise NotImplementedError
