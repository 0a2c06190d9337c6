"""Steps of scripted chat models that read the page states the model agent shows them.

A step is a function from the conversation so far to the model's next message; these helpers
find what a model would read in that conversation (the last page state, a tool's answer, an
element's ref) so that a script acts on the real page, as a model would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_tools.scripted import Step


def text_of(message: BaseMessage) -> str:
    return str(message.content)


def last_tool_text(messages: Sequence[BaseMessage], name: str | None = None) -> str:
    """The answer of the last call of the tool ``name`` (of any tool without a name)."""
    for message in reversed(messages):
        if isinstance(message, ToolMessage) and (name is None or message.name == name):
            return text_of(message)
    raise AssertionError(f"no {name or 'tool'} answer yet")


def last_state(messages: Sequence[BaseMessage]) -> str:
    """The last page state the model was shown: in the task's opening, a page_state answer or
    what an action answered."""
    for message in reversed(messages):
        if "URL: " in text_of(message):
            return text_of(message)
    raise AssertionError("the model was shown no page state")


def ref_of(messages: Sequence[BaseMessage], role: str, label: str) -> str:
    """The ref of an element in the last page state the model was shown."""
    state = last_state(messages)
    found = re.search(rf'- {role} "{re.escape(label)}[^"]*" \[ref=(e\d+)\]', state)
    assert found, f"no {role} {label!r} in the page state:\n{state}"
    return found.group(1)


def everything_shown(turns: Sequence[Sequence[BaseMessage]]) -> str:
    """All a model was shown over its turns, as one text."""
    return "\n".join(text_of(message) for turn in turns for message in turn)


def call(name: str, **arguments: Any) -> Step:
    return lambda messages: AIMessage(
        "", tool_calls=[{"name": name, "args": arguments, "id": f"call-{name}-{len(messages)}"}]
    )


def call_with(name: str, arguments: Callable[[Sequence[BaseMessage]], dict[str, Any]]) -> Step:
    """A call whose arguments are worked out from what the model has seen."""
    return lambda messages: AIMessage(
        "", tool_calls=[{"name": name, "args": arguments(messages), "id": f"call-{name}-{len(messages)}"}]
    )


def price_from_page(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """``finish``'s arguments: the product's name and price read off the detail page shown."""
    state = last_state(messages)
    title = re.search(r"^# (.+)$", state, re.MULTILINE)
    price = re.search(r"Price: ([\d.]+)", state)
    assert title
    assert price
    return {"answer_json": json.dumps({"name": title.group(1), "price": float(price.group(1))})}


def shopping() -> list[Step]:
    """The fixture shop's flow: search, the next page of results, a product, its price as the
    answer. Each action answers with the page after it, so the model never has to ask to look."""
    return [
        call_with(
            "type_text",
            lambda m: {
                "ref": ref_of(m, "searchbox", "Search the catalogue"),
                "text": "nimbus",
                "submit": True,
            },
        ),
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Next page")}),
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}),
        call_with("finish", price_from_page),
    ]


def fresh_answers(turns: Sequence[Sequence[BaseMessage]], name: str | None = None) -> list[ToolMessage]:
    """The tool answers as the model first saw them, in order: the answers that close each turn
    (later turns show older answers shortened, see langchain_tools.agent_context)."""
    found: list[ToolMessage] = []
    for messages in turns:
        closing: list[ToolMessage] = []
        for message in reversed(messages):
            if not isinstance(message, ToolMessage):
                break
            closing.insert(0, message)
        found += [m for m in closing if name is None or m.name == name]
    return found
