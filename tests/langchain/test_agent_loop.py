"""An agent loop (langchain create_agent) driving the Smooth tools, sync and async."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import tool

from langchain_tools import SmoothBrowseTool, SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents.agent_tools import BlockingToolRuntime
from tests.helpers import SiteServer

PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}


def last_tool_message(messages: Sequence[BaseMessage]) -> ToolMessage:
    found = [m for m in messages if isinstance(m, ToolMessage)]
    assert found, "no tool answered yet"
    return found[-1]


def call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}]
    )


def session_script(url: str) -> ScriptedChatModel:
    def open_session(_: Sequence[BaseMessage]) -> AIMessage:
        return call("smooth_session_open", {"url": url}, "c1")

    def extract(messages: Sequence[BaseMessage]) -> AIMessage:
        session_id = last_tool_message(messages).artifact["session_id"]
        return call("smooth_session_extract", {"session_id": session_id, "json_schema": PRODUCT}, "c2")

    def close(messages: Sequence[BaseMessage]) -> AIMessage:
        opened = next(m for m in messages if isinstance(m, ToolMessage))
        return call("smooth_session_close", {"session_id": opened.artifact["session_id"]}, "c3")

    def answer(messages: Sequence[BaseMessage]) -> AIMessage:
        extracted = [m for m in messages if isinstance(m, ToolMessage)][1].artifact["data"]
        return AIMessage(content=json.dumps(extracted))

    return ScriptedChatModel(steps=[open_session, extract, close, answer])


def check_run(model: ScriptedChatModel, result: dict[str, Any]) -> None:
    final = result["messages"][-1]
    assert json.loads(final.content) == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}
    # The model received the structured data: the tool messages carry it as their artifact.
    tool_messages = [m for m in model.seen[-1] if isinstance(m, ToolMessage)]
    assert [m.name for m in tool_messages] == [
        "smooth_session_open",
        "smooth_session_extract",
        "smooth_session_close",
    ]
    assert tool_messages[1].artifact["data"]["price"] == 1299.0
    assert tool_messages[2].artifact["closed"] is True
    assert all(m.status != "error" for m in tool_messages)


def test_agent_loop_sync(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    model = session_script(site.url("demo/product.html"))
    toolkit = SmoothToolkit(client=lc_runtime.client)
    with toolkit:
        agent = create_agent(model, toolkit.get_tools())
        check_run(model, agent.invoke({"messages": [("user", "What does the laptop cost?")]}))
        assert toolkit.runtime.sessions.open_sessions() == []


async def test_agent_loop_async(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    model = session_script(site.url("demo/product.html"))
    with SmoothToolkit(client=lc_runtime.client) as toolkit:
        agent = create_agent(model, toolkit.get_tools())
        check_run(model, await agent.ainvoke({"messages": [("user", "What does the laptop cost?")]}))


def test_toolkit_close_closes_the_sessions_it_opened(
    lc_runtime: BlockingToolRuntime, site: SiteServer
) -> None:
    toolkit = SmoothToolkit(client=lc_runtime.client)
    opener = next(t for t in toolkit.get_tools() if t.name == "smooth_session_open")
    opened = opener.invoke({"type": "tool_call", "id": "1", "name": opener.name, "args": {}}).artifact
    toolkit.close()
    assert lc_runtime.client.get_task(opened["session_id"]).status in ("done", "cancelled")
    assert not lc_runtime.client.embedded  # the shared client stays usable: the toolkit did not own it
    assert lc_runtime.client.list_profiles() is not None


def test_a_langchain_tool_as_a_custom_tool_runs_once(lc_runtime: BlockingToolRuntime) -> None:
    runs: list[str] = []

    @tool
    def stock_level(sku: str) -> str:
        """How many items of a product are in the warehouse."""
        runs.append(sku)
        return f"{sku}: 7 in stock"

    browse = SmoothBrowseTool(runtime=lc_runtime, custom_tools=[stock_level])
    steps = [
        {"action": "tool", "name": "stock_level", "input": {"sku": "NB-14"}},
        {"action": "return", "from": "last"},
    ]
    message = browse.invoke(
        {"type": "tool_call", "id": "9", "name": browse.name, "args": {"task": "script:" + json.dumps(steps)}}
    )
    assert runs == ["NB-14"]
    assert message.artifact["status"] == "done"
    assert message.artifact["output"] == "NB-14: 7 in stock"


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_custom_event(
        self, name: str, data: Any, *, run_id: UUID, tags: list[str] | None = None, **kwargs: Any
    ) -> None:
        self.events.append((name, data))


def test_progress_reaches_callbacks_and_is_silent_without_them(
    lc_runtime: BlockingToolRuntime, site: SiteServer
) -> None:
    browse = SmoothBrowseTool(runtime=lc_runtime)
    steps = [{"action": "goto", "url": site.url("demo/index.html")}, {"action": "sleep", "seconds": 0.3}]
    args = {"task": "script:" + json.dumps(steps)}
    recorder = Recorder()
    browse.invoke(args, config={"callbacks": [recorder]})
    messages = [data["message"] for name, data in recorder.events if name == "smooth_progress"]
    assert any("running" in m for m in messages)
    assert all(data["tool"] == "smooth_browse" for _, data in recorder.events)
    # Outside any graph and with nobody listening: no error.
    assert "done" in browse.invoke(args)

    async def in_async() -> list[str]:
        async_recorder = Recorder()
        await browse.ainvoke(args, config={"callbacks": [async_recorder]})
        return [data["message"] for _, data in async_recorder.events]

    assert any("running" in m for m in asyncio.run(in_async()))


def test_errors_become_messages_the_model_can_act_on(lc_runtime: BlockingToolRuntime) -> None:
    toolkit = SmoothToolkit(client=lc_runtime.client)
    goto = next(t for t in toolkit.get_tools() if t.name == "smooth_session_goto")
    message = goto.invoke(
        {
            "type": "tool_call",
            "id": "1",
            "name": goto.name,
            "args": {"session_id": "task_gone", "url": "http://x"},
        }
    )
    assert message.status == "error"
    assert "smooth_session_open" in message.content


def test_importing_langchain_tools_does_not_import_mcp() -> None:
    probe = (
        "import sys, langchain_tools; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'mcp_server'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_custom_tools_are_still_answered_after_browse_returns_running(
    lc_runtime: BlockingToolRuntime,
) -> None:
    runs: list[str] = []

    @tool
    def approve(order: str) -> str:
        """Approve an order."""
        runs.append(order)
        return f"{order} approved"

    browse = SmoothBrowseTool(runtime=lc_runtime, custom_tools=[approve])
    steps = [
        {"action": "sleep", "seconds": 1.0},
        {"action": "tool", "name": "approve", "input": {"order": "A-1"}},
        {"action": "return", "from": "last"},
    ]
    args = {"task": "script:" + json.dumps(steps), "wait_seconds": 0.2}
    first = browse.invoke({"type": "tool_call", "id": "1", "name": browse.name, "args": args})
    assert first.artifact["status"] in ("waiting", "running")
    assert "keeps answering" in first.artifact["message"]
    final = lc_runtime.client.task(first.artifact["task_id"]).result(timeout=30)
    assert final.output == "A-1 approved"
    assert runs == ["A-1"]
