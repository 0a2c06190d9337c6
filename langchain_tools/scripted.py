"""A chat model that follows a script: for demos and tests of agents without a model provider.

Each step is a function from the conversation so far to the next ``AIMessage``, so a step can
read what the tools answered (their content and their artifact) and choose the next call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

Step = Callable[[Sequence[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    steps: list[Step] = Field(default_factory=list)
    _position: int = PrivateAttr(default=0)
    # What the model was shown at each turn (tests read it).
    seen: list[list[BaseMessage]] = Field(default_factory=list, exclude=True)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self  # the script already knows which tools it calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        if self._position >= len(self.steps):
            reply = AIMessage(content="(the script has ended)")
        else:
            reply = self.steps[self._position](messages)
            self._position += 1
        return ChatResult(generations=[ChatGeneration(message=reply)])


__all__ = ["ScriptedChatModel", "Step"]
