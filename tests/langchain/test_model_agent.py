"""The local server's model agent: a scripted chat model (it reads the real page states it is
shown and picks refs from them) drives a real Chromium through LangChain's create_agent, behind
the local server, reached by our client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from langchain_tools.browser_agent import chat_model
from langchain_tools.scripted import ScriptedChatModel, Step
from smooth_agents import AsyncSmoothClient, TaskFailedError
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, last_tool_text, ref_of, shopping

PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    model: ScriptedChatModel = request.param
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        yield server


SHOPPING = ScriptedChatModel(steps=shopping())


@pytest.mark.parametrize("served", [SHOPPING], indirect=True)
async def test_search_results_next_page_detail_and_a_structured_answer(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run(
            "Find the price of the Nimbus Ultra", url=site.url("shop/index.html"), response_model=PRODUCT
        )
        result = await handle.result(timeout=60)
    assert result.output == {"name": "Nimbus Ultra", "price": 1899.0}
    # Each step is an event of the task (what progress displays show): action, input, URL.
    steps = [e.payload for e in served.runtime.tasks[handle.id].events if e.name == "browser_action"]
    assert [s["name"] for s in steps] == ["type_text", "click", "click"]
    assert steps[0]["input"]["text"] == "nimbus"
    assert steps[2]["url"].endswith("/shop/item-3.html")
    # The model saw the search results the page's script wrote (the real page, not its source),
    # in the answer of the action that led there: one model call per action.
    assert "Results for nimbus" in last_tool_text(SHOPPING.seen[1], "type_text")
    assert len(SHOPPING.seen) == 4


SEEN_BEFORE: list[str] = []


def next_page_remembering(messages: Sequence[BaseMessage]) -> dict[str, str]:
    """Click Next page, keeping in mind the ref of a link on the page being left (the model's
    context shows only the latest page state, but a model may remember an old ref)."""
    SEEN_BEFORE.append(ref_of(messages, "link", "Nimbus Mini"))
    return {"ref": ref_of(messages, "link", "Next page")}


STALE = ScriptedChatModel(
    steps=[
        call("page_state"),
        call_with("click", next_page_remembering),
        # The ref of a link on the page just left: refused, with what to do.
        call_with("click", lambda m: {"ref": SEEN_BEFORE[-1]}),
        lambda m: AIMessage(last_tool_text(m, "click")),
    ]
)


@pytest.mark.parametrize("served", [STALE], indirect=True)
async def test_a_stale_ref_is_answered_with_look_again(served: ThreadedServer, site: SiteServer) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Open the cheapest part", url=site.url("shop/results.html?q=x"))
        result = await handle.result(timeout=60)
    assert "not on the page any more" in str(result.output)
    assert "call page_state" in str(result.output)


LOOPING = ScriptedChatModel(steps=[call("page_state") for _ in range(20)])


@pytest.mark.parametrize("served", [LOOPING], indirect=True)
async def test_the_step_limit_ends_the_task_failed(served: ThreadedServer, site: SiteServer) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Look forever", url=site.url("shop/index.html"), max_steps=3)
        with pytest.raises(TaskFailedError) as failed:
            await handle.result(timeout=60)
    assert "max_steps" in str(failed.value)
    assert len(LOOPING.seen) <= 5  # the model was not called again past the limit


def test_a_missing_provider_package_is_named() -> None:
    with pytest.raises(ValueError, match="pip install langchain-ollama"):
        chat_model("ollama:llama3.1")
    with pytest.raises(ValueError, match="provider:model"):
        chat_model("gpt-4o")


STOCK = ScriptedChatModel(
    steps=[
        call("page_state"),
        # The caller's own tool, answered by the caller mid-task; its answer shapes the next step.
        call("warehouse_stock", sku="NU-3"),
        call_with("finish", lambda m: {"answer_json": f"in stock: {last_tool_text(m, 'warehouse_stock')}"}),
    ]
)


@pytest.mark.parametrize("served", [STOCK], indirect=True)
async def test_a_custom_tool_called_mid_task_and_its_answer_used(
    served: ThreadedServer, site: SiteServer
) -> None:
    asked: list[str] = []

    def warehouse_stock(sku: str) -> int:
        """Units of a part in the caller's warehouse."""
        asked.append(sku)
        return 7

    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run(
            "How many Nimbus Ultra are in stock?",
            url=site.url("shop/item-3.html"),
            custom_tools=[warehouse_stock],
        )
        result = await handle.result(timeout=60)
    assert asked == ["NU-3"]  # run once, here
    assert result.output == "in stock: 7"


BLOCKED = ScriptedChatModel(
    steps=[
        call("goto", url="https://example.org/"),
        lambda m: AIMessage(last_tool_text(m, "goto")),
    ]
)


@pytest.mark.parametrize("served", [BLOCKED], indirect=True)
async def test_a_blocked_address_is_refused_and_the_model_told(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run(
            "Leave the shop", url=site.url("shop/index.html"), allowed_urls=[site.url("shop/*")]
        )
        result = await handle.result(timeout=60)
    assert str(result.output).startswith("Failed:")
    assert "example.org" in str(result.output)


IN_SESSION = ScriptedChatModel(
    steps=[
        call("page_state"),
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}),
        call("finish", answer_json="opened"),
    ]
)


@pytest.mark.parametrize("served", [IN_SESSION], indirect=True)
async def test_run_task_in_a_session_leaves_the_page_where_the_agent_did(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        async with client.session() as session:
            await session.goto(site.url("shop/results-2.html"))
            done = await session.run_task("Open the Nimbus Ultra")
            shown = await session.evaluate_js("location.pathname")
    assert done.output == "opened"
    assert shown.output == "/shop/item-3.html"


WAITING = ScriptedChatModel(
    steps=[
        call("page_state"),
        call("wait_for_text", text="a text this page never shows"),
        call("finish", answer_json="too late"),
    ]
)


@pytest.mark.parametrize("served", [WAITING], indirect=True)
async def test_cancelling_mid_task_stops_the_model_and_the_browser(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Wait for it", url=site.url("shop/index.html"))
        for _ in range(200):  # until the model has asked to wait
            if len(WAITING.seen) >= 2:
                break
            await asyncio.sleep(0.05)
        assert len(WAITING.seen) == 2
        assert await handle.cancel()
        with pytest.raises(TaskFailedError):
            await handle.result(timeout=30)
        await asyncio.sleep(0.5)
    assert len(WAITING.seen) == 2  # no model call after the cancel
    task = served.runtime.tasks[handle.id]
    assert task.status == "cancelled"
    assert task.browser is None  # its context closed and let go


def refused_key(_messages: Sequence[BaseMessage]) -> AIMessage:
    raise PermissionError("Incorrect API key provided: sk-proj-Abc123def456ghi789jkl. Check your key.")


BAD_KEY = ScriptedChatModel(steps=[refused_key])


@pytest.mark.parametrize("served", [BAD_KEY], indirect=True)
async def test_a_provider_error_fails_the_task_without_the_key(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Anything", url=site.url("shop/index.html"))
        with pytest.raises(TaskFailedError) as failed:
            await handle.result(timeout=60)
    message = str(failed.value)
    assert "The model failed: PermissionError: Incorrect API key provided" in message
    assert "Abc123def456" not in message


WATCHED = ScriptedChatModel(steps=[*shopping()[:2], call("finish", answer_json="seen")])


@pytest.mark.parametrize("served", [WATCHED], indirect=True)
async def test_the_live_view_lists_the_agents_last_steps(served: ThreadedServer, site: SiteServer) -> None:
    from playwright.async_api import async_playwright

    from smooth_agents.local.browser.chromium import find_chromium

    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Search for nimbus", url=site.url("shop/index.html"))
        await handle.result(timeout=60)
        live_url = (await client.get_task(handle.id)).live_url
    assert live_url
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(None, playwright), args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            await page.goto(live_url)
            steps = page.locator("#steps li")
            await steps.nth(1).wait_for(timeout=10_000)  # filled by the page's first refresh
            shown = await steps.all_inner_texts()
        finally:
            await browser.close()
    assert shown[0].startswith("click e")  # the latest first
    assert shown[1].startswith("type_text e")  # what it acted on is the field, not the text typed


class ToolRecordingModel(ScriptedChatModel):
    """Also keeps the tools it is offered, as a provider would receive them."""

    offered: list[dict[str, Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        self.offered.extend(convert_to_openai_tool(t)["function"] for t in tools)
        return self


DOCS_SHAPE = ToolRecordingModel(
    steps=[
        call("lookup_order", order_id="A-17"),
        call_with("finish", lambda m: {"answer_json": last_tool_text(m, "lookup_order")}),
    ]
)


@pytest.mark.parametrize("served", [DOCS_SHAPE], indirect=True)
async def test_a_custom_tool_declared_as_the_api_pages_show_reaches_the_model_as_an_object_schema(
    served: ThreadedServer, site: SiteServer
) -> None:
    # The pages declare inputs as a map of parameters, not a JSON schema; providers need the latter.
    tool = {
        "name": "lookup_order",
        "description": "The status of an order",
        "inputs": {"order_id": {"type": "string", "description": "The order's id"}},
        "output": "The order's status",
    }
    with httpx2.Client(base_url=served.api_url, headers={"apikey": API_KEY}, timeout=30) as api:
        task = api.post(
            "/task",
            json={"task": "Where is order A-17?", "url": site.url("shop/index.html"), "custom_tools": [tool]},
        ).json()["r"]
        call_event = wait_for_tool_call(api, task["id"])
        api.post(
            f"/task/{task['id']}/event",
            json={"id": call_event["id"], "name": "tool_call", "payload": {"code": 200, "output": "shipped"}},
        )
        done = wait_done(api, task["id"])
    assert done["output"] == '"shipped"'
    offered = next(t for t in DOCS_SHAPE.offered if t["name"] == "lookup_order")
    assert offered["parameters"]["type"] == "object"
    assert offered["parameters"]["properties"]["order_id"]["type"] == "string"
    assert offered["parameters"]["required"] == ["order_id"]
    assert call_event["payload"]["input"] == {"order_id": "A-17"}


def wait_for_tool_call(api: httpx2.Client, task_id: str) -> dict[str, Any]:
    for _ in range(200):
        events = api.get(f"/task/{task_id}").json()["r"].get("events") or []
        calls = [e for e in events if e["name"] == "tool_call"]
        if calls:
            return dict(calls[0])
        time.sleep(0.05)
    raise AssertionError("no tool_call event")


def wait_done(api: httpx2.Client, task_id: str) -> dict[str, Any]:
    for _ in range(400):
        answer = api.get(f"/task/{task_id}").json()["r"]
        if answer["status"] not in ("waiting", "running"):
            return dict(answer)
        time.sleep(0.05)
    raise AssertionError("the task did not end")


def with_usage(step: Step, tokens_in: int, tokens_out: int) -> Step:
    """A step whose reply says what it cost, as providers' replies do."""

    def costed(messages: Sequence[BaseMessage]) -> AIMessage:
        reply = step(messages)
        reply.usage_metadata = {
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        }
        reply.response_metadata = {"model_name": "scripted-1"}
        return reply

    return costed


COUNTED = ScriptedChatModel(
    steps=[
        with_usage(call_with("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}), 1200, 30),
        with_usage(call("finish", answer_json="found"), 1500, 20),
    ]
)


@pytest.mark.parametrize("served", [COUNTED], indirect=True)
async def test_the_models_token_usage_is_an_event_of_the_task(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Open the Nimbus Ultra", url=site.url("shop/results-2.html"))
        assert (await handle.result(timeout=60)).output == "found"
        task = await client.get_task(handle.id)
    usage = [e.payload for e in task.events or [] if e.name == "model_usage"]
    assert usage == [
        {"models": {"scripted-1": {"input_tokens": 2700, "output_tokens": 50, "total_tokens": 2750}}}
    ]
