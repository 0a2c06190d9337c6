"""What the model agent's model reads each turn: a bounded context.

The agent's state keeps every message; the model is shown an edited copy (LangChain's
``ContextEditingMiddleware`` with the edit below), so the cost of a turn does not grow with the
pages the task has read:

- the task, with the page it started on until a later page state replaces it;
- one short line per earlier step: the call (long arguments cut) and the first line of what it
  answered, with a word on what was left out (a page state, a long read) and how to see it again;
- the latest page state in full, and the answers to the latest call in full.

Past ``MAX_CONTEXT_CHARS`` the oldest steps are left out altogether, and the task says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain.agents.middleware import ContextEditingMiddleware
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage

# Where a page state starts in a message (elements.PageState.as_text) and in the task's opening.
STATE_START = "URL: "
OPENING_STATE = "\n\nThe browser shows:\n"
# The most an earlier step's answer keeps of its first line, and of each argument of its call.
LINE_CHARS = 200
ARGUMENT_CHARS = 160
# The most characters a turn's messages may total; the oldest steps go first past it. Each part a
# tool answers is bounded well below it (page states, read_page, extract, evaluate_js).
MAX_CONTEXT_CHARS = 40_000


def bounded_context() -> ContextEditingMiddleware[Any, Any]:
    """The middleware that shows the model the bounded context (``create_agent(middleware=...)``)."""
    return ContextEditingMiddleware(edits=[BoundedHistory()])


class BoundedHistory:
    """The edit (a LangChain ``ContextEdit``): rewrites the copy of the messages a model call sees."""

    def apply(self, messages: list[AnyMessage], *, count_tokens: Any) -> None:
        last_call = _last_index(messages, AIMessage)
        if last_call is None:
            return  # the first turn: the task and its page, nothing to shorten
        latest_state = _last_index(messages, None, with_state=True)
        for index, message in enumerate(messages[:last_call]):
            if isinstance(message, ToolMessage):
                messages[index] = _as_line(message, keep_state=index == latest_state)
            elif isinstance(message, AIMessage):
                messages[index] = _short_call(message)
            elif isinstance(message, HumanMessage) and index != latest_state:
                messages[index] = _without_state(message)
        _leave_out_oldest(messages)


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else str(message.text)


def _has_state(message: BaseMessage) -> bool:
    text = _text(message)
    return text.startswith(STATE_START) or f"\n{STATE_START}" in text


def _last_index(
    messages: Sequence[BaseMessage], kind: type | None, *, with_state: bool = False
) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if (kind is None or isinstance(message, kind)) and (not with_state or _has_state(message)):
            return index
    return None


def _as_line(message: ToolMessage, *, keep_state: bool) -> ToolMessage:
    """An earlier answer as one line: its first line, and what was left out."""
    text = _text(message)
    if keep_state or len(text) <= LINE_CHARS:
        return message
    first = text.split("\n", 1)[0][:LINE_CHARS]
    name = message.name or "the tool"
    if _has_state(message):
        left = "the page state it showed is left out (a later one replaced it)"
    else:
        left = f"its {len(text):,} characters are left out; call {name} again to see them"
    return message.model_copy(update={"content": f"{first} [{left}]", "artifact": None})


def _short_call(message: AIMessage) -> AIMessage:
    """An earlier call with long arguments (a schema, a script, typed text) and long words cut."""
    calls = [
        {**call, "args": {key: _cut(value) for key, value in call["args"].items()}}
        for call in message.tool_calls
    ]
    text = _text(message)
    content: Any = text[:LINE_CHARS] + "…" if len(text) > LINE_CHARS else message.content
    return message.model_copy(update={"tool_calls": calls, "content": content})


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > ARGUMENT_CHARS:
        return value[:ARGUMENT_CHARS] + "…"
    return value


def _without_state(message: HumanMessage) -> HumanMessage:
    text = _text(message)
    if OPENING_STATE not in text:
        return message
    task = text.split(OPENING_STATE, 1)[0]
    return message.model_copy(
        update={
            "content": task + "\n\n(The page the task started on is left out: a later page state follows.)"
        }
    )


def _size(messages: Sequence[BaseMessage]) -> int:
    total = 0
    for message in messages:
        total += len(_text(message))
        if isinstance(message, AIMessage):
            total += sum(len(str(call["args"])) + len(call["name"]) for call in message.tool_calls)
    return total


def _leave_out_oldest(messages: list[AnyMessage]) -> None:
    """Past ``MAX_CONTEXT_CHARS``, drop the oldest steps (a call with its answers) and say so in
    the task; the latest call and its answers always stay."""
    opening = next((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), None)
    if opening is None or _size(messages) <= MAX_CONTEXT_CHARS:
        return
    dropped = 0
    while _size(messages) > MAX_CONTEXT_CHARS:
        start = next(
            (i for i in range(opening + 1, len(messages)) if isinstance(messages[i], AIMessage)), None
        )
        if start is None or start == _last_index(messages, AIMessage):
            break
        end = start + 1
        while end < len(messages) and isinstance(messages[end], ToolMessage):
            end += 1
        del messages[start:end]
        dropped += 1
    if dropped:
        note = f"\n\n({dropped} earlier steps are left out to keep this short; the latest are below.)"
        first = messages[opening]
        messages[opening] = first.model_copy(update={"content": _text(first) + note})
