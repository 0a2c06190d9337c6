"""A model that reads only the text of tool messages (as every LangChain chat model does: the
artifact never reaches it) gets everything: all rows of a listing, and a long page whole, by
following the read-on calls the text names."""

from __future__ import annotations

import json
from collections.abc import Sequence

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_tools import SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents.agent_tools import BlockingToolRuntime
from tests.helpers import SiteServer
from tests.reading import part_in_text, read_on_arguments

ROWS = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}


def call(name: str, args: dict[str, object], call_id: str) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
    )


def last_text(messages: Sequence[BaseMessage]) -> str:
    found = [m for m in messages if isinstance(m, ToolMessage)]
    assert found[-1].status != "error", found[-1].content
    return str(found[-1].content)


class TextOnlyReader:
    """A scripted model: one first call, then it follows 'read on' in the text until the end."""

    def __init__(self, first: AIMessage) -> None:
        self.first = first
        self.calls = 0

    def __call__(self, messages: Sequence[BaseMessage]) -> AIMessage:
        self.calls += 1
        if self.calls == 1:
            return self.first
        arguments = read_on_arguments(last_text(messages))
        if arguments is None:
            return AIMessage(content="done")
        return call("smooth_task_status", arguments, f"c{self.calls}")


def run(lc_runtime: BlockingToolRuntime, first: AIMessage) -> ScriptedChatModel:
    reader = TextOnlyReader(first)
    model = ScriptedChatModel(steps=[reader] * 200)
    with SmoothToolkit(client=lc_runtime.client) as toolkit:  # the default budget, 20,000 characters
        agent = create_agent(model, toolkit.get_tools())
        agent.invoke({"messages": [("user", "read it")]}, {"recursion_limit": 400})
    return model


def texts_seen(model: ScriptedChatModel) -> list[str]:
    return [str(m.content) for m in model.seen[-1] if isinstance(m, ToolMessage)]


def test_the_model_sees_all_20_rows(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    first = call(
        "smooth_extract", {"url": site.url("listing?rows=20"), "json_schema": json.dumps(ROWS)}, "c1"
    )
    model = run(lc_runtime, first)
    (text,) = texts_seen(model)
    rows = json.loads(part_in_text(text))
    assert [r["name"] for r in rows] == [f"Widget model {i:03d}" for i in range(20)]


def test_a_180000_character_page_read_on_equals_the_page(
    lc_runtime: BlockingToolRuntime, site: SiteServer
) -> None:
    first = call("smooth_browse", {"task": "read the page", "url": site.url("long?chars=180000")}, "c1")
    model = run(lc_runtime, first)
    texts = texts_seen(model)
    assert len(texts) >= 9
    arguments = read_on_arguments(texts[0])
    assert arguments is not None
    whole = lc_runtime.client.get_task(arguments["task_id"]).output
    assert len(whole) >= 180_000
    assert "".join(part_in_text(t) for t in texts) == whole
