"""A chat model whose turns are asked of a ``Sampler``: the MCP host's own model, lent through
``smooth_agents.host_models``, as a LangChain chat model the browser agent's ``create_agent`` runs.

Only the async path exists (the agent awaits it); messages cross as the plain dicts the
``host_models`` module describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from smooth_agents.host_models import Sampler


class SampledChatModel(BaseChatModel):
    """Each turn is one request to ``sampler`` (an MCP client's model, through sampling)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sampler: Any = Field(exclude=True, repr=False)
    max_tokens: int = 4096

    @property
    def _llm_type(self) -> str:
        return "mcp-host-sampling"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        specs = []
        for tool in tools:
            function = convert_to_openai_tool(tool)["function"]
            specs.append(
                {
                    "name": function["name"],
                    "description": function.get("description", ""),
                    "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
                }
            )
        return self.bind(tools=specs, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("The MCP host's model is asked asynchronously: use ainvoke.")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        system, conversation = sampling_messages(messages)
        sampler: Sampler = self.sampler
        answer = await sampler.sample(
            conversation, system=system, tools=list(kwargs.get("tools") or []), max_tokens=self.max_tokens
        )
        return ChatResult(generations=[ChatGeneration(message=ai_message(answer))])


def sampling_messages(messages: Sequence[BaseMessage]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt and the conversation as sampling messages. The answers to one turn's
    tool calls (consecutive ``ToolMessage``s) become one user message of tool results, as
    sampling requires."""
    system: list[str] = []
    conversation: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.text)
        elif isinstance(message, ToolMessage):
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "text": message.text,
                "is_error": message.status == "error",
            }
            previous = conversation[-1] if conversation else None
            if previous and previous["role"] == "user" and previous["content"][0]["type"] == "tool_result":
                previous["content"].append(block)
            else:
                conversation.append({"role": "user", "content": [block]})
        elif isinstance(message, AIMessage):
            content: list[dict[str, Any]] = [{"type": "text", "text": message.text}] if message.text else []
            content += [
                {"type": "tool_use", "id": call["id"] or "", "name": call["name"], "input": call["args"]}
                for call in message.tool_calls
            ]
            conversation.append({"role": "assistant", "content": content or [{"type": "text", "text": ""}]})
        else:
            conversation.append({"role": "user", "content": [{"type": "text", "text": message.text}]})
    return "\n\n".join(system), conversation


def ai_message(answer: dict[str, Any]) -> AIMessage:
    blocks = answer.get("content") or []
    text = "".join(b["text"] for b in blocks if b.get("type") == "text")
    calls = [
        {"name": b["name"], "args": dict(b.get("input") or {}), "id": b["id"], "type": "tool_call"}
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    return AIMessage(
        content=text,
        tool_calls=calls,
        response_metadata={"model_name": answer.get("model"), "stop_reason": answer.get("stop_reason")},
    )


__all__ = ["SampledChatModel"]
