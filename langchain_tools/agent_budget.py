"""A task's token budget: the model agent's middleware that ends a task past it.

``max_steps`` bounds a task's steps; this bounds what its model reads and writes. After each
model reply the tokens of every reply so far (as the provider counted them: ``usage_metadata``)
are added up, and past the budget the task ends with the reason, as it does past ``max_steps``.
"""

from __future__ import annotations

from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from smooth_agents.local.agents.seam import AgentError


def tokens_used(messages: list[Any]) -> int:
    """Input and output tokens of every model reply in ``messages``."""
    total = 0
    for message in messages:
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        if usage:
            total += int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
    return total


class TokenBudget(AgentMiddleware[AgentState[Any], Any, Any]):
    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def after_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        used = tokens_used(state["messages"])
        if used > self.budget:
            raise AgentError(
                f"The task used {used:,} tokens, past its budget of {self.budget:,} "
                "(max_tokens in the task's metadata, or the server's --max-task-tokens)."
            )
        return None
