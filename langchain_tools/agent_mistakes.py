"""A model's slips answered, not fatal: the model agent's ``after_model`` middleware.

Real models, small and local ones most, send calls whose arguments are not JSON (LangChain puts
those in ``invalid_tool_calls``), answer in prose where JSON was asked for, or answer nothing.
LangChain's loop ends on any reply without a valid call, so each would end the task. Here:

- a call that could not be parsed is answered with a tool error naming the tool and what was
  wrong, and counts as a step (calls to a tool that does not exist, or with arguments of the wrong
  types, are already answered so by LangChain's tool node);
- prose without ``finish`` where the task has a response model: the model is asked again, at most
  ``PROSE_RETRIES`` times, to call ``finish`` with JSON, its words quoted;
- an empty reply: asked again once.

Only then does the loop end, and the agent fails the task with the model's last words.
"""

from __future__ import annotations

from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, hook_config
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.runtime import Runtime

from smooth_agents.local.agents.seam import AgentContext

PROSE_RETRIES = 2
EMPTY_RETRIES = 1
# The start of each message asking again: how the asks so far are counted in the conversation.
PROSE_ASK = "You answered in prose"
EMPTY_ASK = "Your reply was empty"
QUOTED_CHARS = 300


class AnswerMistakes(AgentMiddleware[AgentState[Any], Any, Any]):
    """Answers a model's malformed calls and asks again after a reply with no call."""

    def __init__(self, context: AgentContext) -> None:
        super().__init__()
        self._context = context
        self._schema_wanted = context.response_model is not None

    @hook_config(can_jump_to=["model"])
    def after_model(self, state: AgentState[Any], runtime: Runtime[Any]) -> dict[str, Any] | None:
        messages = state["messages"]
        reply = messages[-1] if messages else None
        if not isinstance(reply, AIMessage):
            return None
        if reply.invalid_tool_calls:
            return self._malformed(reply)
        if reply.tool_calls:
            return None
        text = reply.text.strip()
        if not text:
            return self._ask(messages, EMPTY_ASK, EMPTY_RETRIES, f"{EMPTY_ASK}. {self._next_step()}")
        if self._schema_wanted:
            quoted = text[:QUOTED_CHARS] + ("…" if len(text) > QUOTED_CHARS else "")
            ask = (
                f"{PROSE_ASK} ({quoted!r}), but this task's answer must be JSON: call finish with "
                "answer_json set to a JSON object matching the schema in finish's description."
            )
            return self._ask(messages, PROSE_ASK, PROSE_RETRIES, ask)
        return None  # prose is the answer of a task without a response model

    def _malformed(self, reply: AIMessage) -> dict[str, Any]:
        answers: list[ToolMessage] = []
        for call in reply.invalid_tool_calls:
            self._context.count_step(f"a malformed call of {call.get('name') or 'a tool'}")
            name = call.get("name") or "(no name)"
            raw = str(call.get("args") or "")[:QUOTED_CHARS]
            why = call.get("error") or "its arguments are not a JSON object"
            answers.append(
                ToolMessage(
                    content=(
                        f"Error: the call of {name} could not be read: {why}. Arguments sent: {raw!r}. "
                        f"Call {name} again with its arguments as a JSON object."
                    ),
                    tool_call_id=call.get("id") or "",
                    name=name,
                    status="error",
                )
            )
        update: dict[str, Any] = {"messages": answers}
        if not reply.tool_calls:
            update["jump_to"] = "model"  # nothing else to run: back to the model with the errors
        return update

    def _ask(self, messages: list[Any], marker: str, allowed: int, ask: str) -> dict[str, Any] | None:
        asked = sum(1 for m in messages if isinstance(m, HumanMessage) and m.text.startswith(marker))
        if asked >= allowed:
            return None  # the loop ends; the agent fails the task with the model's last words
        self._context.count_step("a reply without a call")
        return {"messages": [HumanMessage(ask)], "jump_to": "model"}

    def _next_step(self) -> str:
        if self._schema_wanted:
            return "Go on with the task by calling a tool, or call finish with the JSON answer."
        return "Go on with the task by calling a tool, or call finish with the answer."
