"""The local model agent on models that behave as real ones do (issue: the agent on real models):
what the model reads each turn stays bounded on a long task over long pages; malformed calls,
prose and empty replies are answered instead of ending the task; the tokens a task used come back
with its result, and a token budget ends a task past it. Scripted models and langchain-openai
against an OpenAI-compatible server on loopback; a real Chromium on pages served on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from langchain_tools.scripted import ScriptedChatModel, Step
from smooth_agents import AsyncSmoothClient, TaskFailedError
from smooth_agents.local import ThreadedServer
from tests.fake_openai import FakeOpenAI
from tests.helpers import API_KEY, SiteServer, make_settings
from tests.langchain.scripting import call, last_tool_text

ANSWER = {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}


async def run_task(
    tmp_path: Path, model: Any, task: str, url: str, *, settings: dict[str, Any] | None = None, **options: Any
) -> Any:
    with ThreadedServer(make_settings(tmp_path, model=model, **(settings or {}))) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(task, url=url, **options)
            return await handle.result(timeout=120)


def size(messages: Sequence[BaseMessage]) -> int:
    """Characters a turn sends: every message's text and every call's name and arguments."""
    total = 0
    for message in messages:
        total += len(message.content if isinstance(message.content, str) else json.dumps(message.content))
        if isinstance(message, AIMessage):
            total += sum(len(c["name"]) + len(json.dumps(c["args"])) for c in message.tool_calls)
    return total


def shown_whole(messages: Sequence[BaseMessage]) -> int:
    """Characters of what a turn shows whole: the answers to the latest call, and the latest page
    state wherever it is."""
    closing: list[BaseMessage] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        closing.append(message)
    with_state = [
        m for m in messages if isinstance(m, ToolMessage | HumanMessage) and "URL: " in str(m.content)
    ]
    latest_state = [with_state[-1]] if with_state and with_state[-1] not in closing else []
    return size(closing) + size(latest_state)


def with_usage(step: Step, input_tokens: int, output_tokens: int) -> Step:
    def counted(messages: Sequence[BaseMessage]) -> AIMessage:
        reply = step(messages)
        reply.usage_metadata = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        return reply

    return counted


# -- a bounded context -------------------------------------------------------------------------


async def test_a_long_task_over_long_pages_sends_a_bounded_context(tmp_path: Path, site: SiteServer) -> None:
    # Six long articles, each opened, read whole (in parts), looked at and scrolled: 25 steps. What
    # the model reads grows by one short line a step, and never passes 40,000 characters.
    steps: list[Step] = []
    for page in range(6):
        url = site.url(f"long?chars=50000&page={page}")
        steps += [call("goto", url=url), call("read_page"), call("read_page", start=20_000), call("scroll")]
    steps.append(call("finish", answer_json="read them all"))
    model = ScriptedChatModel(steps=steps)
    result = await run_task(tmp_path, model, "Read these articles", site.url("shop/index.html"), max_steps=40)
    assert result.output == "read them all"
    turns = model.seen
    assert len(turns) == 25
    sizes = [size(turn) for turn in turns]
    assert max(sizes) < 40_000, sizes
    # Without the answers to the latest call, each turn adds at most one line of history.
    history = [size(turn) - shown_whole(turn) for turn in turns]
    growth = [later - earlier for earlier, later in itertools.pairwise(history[3:])]
    assert max(growth) <= 500, growth
    # The long reads were whole when new: the first part of a page said where the next one starts.
    first_read = str(turns[2][-1].content)
    assert "call read_page with start=20000 for the next part" in first_read
    assert len(first_read) > 19_000
    # ...and in later turns each is one line saying how to see it again.
    later_reads = [m for m in turns[-1] if isinstance(m, ToolMessage) and m.name == "read_page"]
    assert later_reads
    assert all(len(str(m.content)) < 400 for m in later_reads)
    assert "call read_page again to see them" in str(later_reads[0].content)


# -- a model's slips answered ------------------------------------------------------------------


def malformed(messages: Sequence[BaseMessage]) -> AIMessage:
    return AIMessage(
        "",
        invalid_tool_calls=[
            {"type": "invalid_tool_call", "name": "click", "args": "{ref: e1", "id": "c1", "error": None}
        ],
    )


async def test_a_call_that_is_not_json_is_answered_and_the_task_goes_on(
    tmp_path: Path, site: SiteServer
) -> None:
    model = ScriptedChatModel(steps=[malformed, call("finish", answer_json="recovered")])
    result = await run_task(tmp_path, model, "Click", site.url("shop/index.html"))
    assert result.output == "recovered"
    told = last_tool_text(model.seen[1], "click")
    assert told.startswith("Error: the call of click could not be read")
    assert "'{ref: e1'" in told


async def test_unknown_tools_and_wrong_types_are_answered_too(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[call("open_everything"), call("scroll", direction=["down"]), call("finish", answer_json="ok")]
    )
    result = await run_task(tmp_path, model, "Look", site.url("shop/index.html"))
    assert result.output == "ok"
    assert "open_everything is not a valid tool" in last_tool_text(model.seen[1])
    assert "direction" in last_tool_text(model.seen[2], "scroll")


async def test_prose_under_a_response_model_is_asked_again_for_json(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[
            lambda m: AIMessage("I believe the code is NU-3."),
            call("finish", answer_json='{"code": "NU-3"}'),
        ]
    )
    result = await run_task(
        tmp_path, model, "Find the code", site.url("shop/index.html"), response_model=ANSWER
    )
    assert result.output == {"code": "NU-3"}
    asked = [m for m in model.seen[1] if isinstance(m, HumanMessage)][-1]
    assert "'I believe the code is NU-3.'" in str(asked.content)
    assert "call finish" in str(asked.content)


async def test_prose_again_and_again_fails_with_the_models_last_words(
    tmp_path: Path, site: SiteServer
) -> None:
    model = ScriptedChatModel(steps=[lambda m, n=n: AIMessage(f"Still thinking ({n})") for n in range(5)])
    with pytest.raises(TaskFailedError) as failed:
        await run_task(tmp_path, model, "Find the code", site.url("shop/index.html"), response_model=ANSWER)
    assert len(model.seen) == 3  # asked again twice, then given up
    assert "The model stopped without calling finish ('Still thinking (2)')" in str(failed.value)


@pytest.mark.parametrize(("empties", "ends"), [(1, "done"), (2, "failed")])
async def test_an_empty_reply_is_asked_again_once(
    tmp_path: Path, site: SiteServer, empties: int, ends: str
) -> None:
    model = ScriptedChatModel(
        steps=[*[lambda m: AIMessage("") for _ in range(empties)], call("finish", answer_json="here")]
    )
    if ends == "done":
        result = await run_task(tmp_path, model, "Look", site.url("shop/index.html"))
        assert result.output == "here"
        assert "Your reply was empty" in str(
            [m for m in model.seen[1] if isinstance(m, HumanMessage)][-1].content
        )
    else:
        with pytest.raises(TaskFailedError, match="The model stopped without calling finish"):
            await run_task(tmp_path, model, "Look", site.url("shop/index.html"))


def sloppy_model(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | str]:
    """A provider's model that first sends arguments that are not JSON, then prose, then the answer."""
    turn = sum(1 for m in messages if m["role"] == "assistant")
    if turn == 0:
        return "scroll", "{direction: down"
    if turn == 1:
        return "", "The code is NU-3, I think."
    return "finish", {"answer_json": json.dumps({"code": "NU-3"})}


async def test_a_provider_model_that_slips_still_finishes(tmp_path: Path, site: SiteServer) -> None:
    with FakeOpenAI(sloppy_model) as provider:
        model = ChatOpenAI(
            model="gpt-4o-mini", base_url=provider.base_url, api_key=SecretStr("sk-fake-0123456789")
        )
        result = await run_task(
            tmp_path, model, "Find the code", site.url("shop/index.html"), response_model=ANSWER
        )
    assert result.output == {"code": "NU-3"}
    assert len(provider.requests) == 3
    # The malformed call was answered as a tool error, under its own call id, on the wire.
    second = provider.requests[1]["messages"]
    answered = [m for m in second if m["role"] == "tool"]
    assert answered[-1]["tool_call_id"] == "call_1"
    assert "could not be read" in answered[-1]["content"]
    # The tokens the provider counted come back with the result.
    assert result.tokens == (3000, 60)
    assert result.model_usage is not None


# -- a budget -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["metadata", "server"])
async def test_a_task_past_its_token_budget_ends_with_the_reason(
    tmp_path: Path, site: SiteServer, where: str
) -> None:
    model = ScriptedChatModel(steps=[with_usage(call("scroll"), 600, 20) for _ in range(10)])
    options: dict[str, Any] = {"metadata": {"max_tokens": 1500}} if where == "metadata" else {}
    settings = {"max_task_tokens": 1500} if where == "server" else {}
    with pytest.raises(TaskFailedError) as failed:
        await run_task(tmp_path, model, "Scroll", site.url("shop/index.html"), settings=settings, **options)
    assert "The task used 1,860 tokens, past its budget of 1,500" in str(failed.value)
    assert len(model.seen) == 3


async def test_metadata_cannot_raise_the_servers_budget(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(steps=[with_usage(call("scroll"), 600, 20) for _ in range(10)])
    with pytest.raises(TaskFailedError, match="budget of 700"):
        await run_task(
            tmp_path,
            model,
            "Scroll",
            site.url("shop/index.html"),
            settings={"max_task_tokens": 700},
            metadata={"max_tokens": 100_000},
        )
