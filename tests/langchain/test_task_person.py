"""A task's agent reaching the caller's person (``ask_person``, ``hand_over``), through the Python
client's ``person`` (``PersonCallbacks``): a scripted model drives the local server's model agent
on a real Chromium, and a real Chromium plays the person on the live view (clicks and keys on the
picture). What the person types there never reaches the model or the task's events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from playwright.async_api import Browser
from pydantic import Field, SecretStr

from langchain_tools import SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient, PersonCallbacks
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, LoginSite, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, last_state, last_tool_text
from tests.person import hand_back, person_browser, sign_in_and_hand_back

FIELDS_JS = (
    "Object.fromEntries(['#username', '#password'].map((s) => { const r = "
    "document.querySelector(s).getBoundingClientRect(); return [s, {x: (r.x + r.width / 2) / "
    "innerWidth, y: (r.y + r.height / 2) / innerHeight}]; }))"
)


class ToolSeeingModel(ScriptedChatModel):
    """A scripted model that also keeps the names of the tools it was offered."""

    offered: list[str] = Field(default_factory=list, exclude=True)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolSeeingModel:
        self.offered = [getattr(t, "name", "") for t in tools]
        return self


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    async with person_browser() as browser:
        yield browser


def answer_of(messages: Sequence[BaseMessage]) -> str:
    """The person's answer in the last ask_person answer."""
    return str(json.loads(last_tool_text(messages, "ask_person"))["answer"])


def tool_texts(messages: Sequence[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages if isinstance(m, ToolMessage))


async def test_the_agent_asks_the_person_and_uses_the_answer(tmp_path: Path, site: SiteServer) -> None:
    asked: list[str] = []

    def ask(question: str) -> str:  # a blocking callback (input() would be one): run off the loop
        asked.append(question)
        return "the blue one"

    model = ToolSeeingModel(
        steps=[
            call("ask_person", question="Which colour do you want?"),
            call_with(
                "finish", lambda m: {"answer_json": json.loads(last_tool_text(m, "ask_person"))["answer"]}
            ),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Buy a shirt", url=site.url("shop/index.html"), person=PersonCallbacks(ask=ask)
            )
            result = await handle.result(timeout=60)
    assert result.output == "the blue one"
    assert asked == ["Which colour do you want?"]
    assert "ask_person" in model.offered
    assert "hand_over" not in model.offered  # no way to send the person anywhere was given


async def test_a_declined_question_is_told_to_the_agent_which_carries_on(
    tmp_path: Path, site: SiteServer
) -> None:
    model = ToolSeeingModel(
        steps=[
            call("ask_person", question="Your one-time code?"),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "ask_person")}),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Sign in", url=site.url("shop/index.html"), person=PersonCallbacks(ask=lambda q: None)
            )
            result = await handle.result(timeout=60)
    assert result.status == "done"
    assert "The person declined to answer." in result.output


async def test_without_a_person_the_agent_is_offered_neither_tool(tmp_path: Path, site: SiteServer) -> None:
    model = ToolSeeingModel(steps=[call("finish", answer_json="nothing to ask")])
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run("Look", url=site.url("shop/index.html"), person=PersonCallbacks())
            assert (await handle.result(timeout=60)).output == "nothing to ask"
    assert model.offered
    assert "ask_person" not in model.offered
    assert "hand_over" not in model.offered


async def test_the_agent_hands_the_browser_over_and_the_person_signs_in(
    tmp_path: Path, site: SiteServer, person: Browser
) -> None:
    logins = site.login
    before = len(logins.logins)  # the site serves the whole session
    username = "ada"
    password, name = LoginSite.USERS[username]
    told: list[tuple[str, str]] = []
    signing_in: list[asyncio.Task[None]] = []

    async def on_handoff(link: str, message: str) -> None:
        told.append((link, message))
        fields = json.loads(last_tool_text(model.seen[-1], "evaluate_js"))
        signing_in.append(
            asyncio.create_task(sign_in_and_hand_back(person, link, fields, username, password))
        )

    model = ToolSeeingModel(
        steps=[
            call("evaluate_js", js=FIELDS_JS),
            call("hand_over", message="Please sign in as Ada"),
            call_with("finish", lambda m: {"answer_json": last_state(m).split("\n", 2)[1]}),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Open my account",
                url=site.url("login/index.html"),
                person=PersonCallbacks(on_handoff=on_handoff),
            )
            result = await handle.result(timeout=90)
            events = json.dumps([e.model_dump() for e in (await client.get_task(handle.id)).events or []])
    await signing_in[0]
    assert "hand_over" in model.offered
    [(link, message)] = told
    assert message == "Please sign in as Ada"
    assert link.startswith(handle.live_url.split("?")[0])
    assert "interactive=true" in link
    shown = tool_texts(model.seen[-1])
    assert "The person handed the browser back." in shown
    assert "/login/account" in shown
    assert name in shown
    assert result.status == "done"
    assert len(logins.logins) == before + 1
    # What the person typed went into the page only.
    assert password not in shown
    assert password not in events
    assert password not in json.dumps(result.output)


async def test_a_person_who_declines_the_browser_leaves_the_agent_going(
    tmp_path: Path, site: SiteServer
) -> None:
    async def refuse(link: str, message: str) -> None:
        raise RuntimeError("not now")

    model = ToolSeeingModel(
        steps=[
            call("hand_over", message="Solve the CAPTCHA"),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "hand_over")}),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Go on", url=site.url("shop/index.html"), person=PersonCallbacks(on_handoff=refuse)
            )
            result = await handle.result(timeout=60)
    assert result.status == "done"
    assert result.output.startswith("Failed: The person did not take the browser")


async def test_once_the_handle_is_closed_nobody_is_asked(tmp_path: Path, site: SiteServer) -> None:
    asked: list[str] = []
    model = ToolSeeingModel(
        steps=[
            call("wait_for_text", text="never shown on this page"),
            call("ask_person", question="Still there?"),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "ask_person")}),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model, action_timeout=3)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Wait", url=site.url("shop/index.html"), person=PersonCallbacks(ask=asked.append)
            )
            await handle.end_person_tools()  # the call that could reach the person returned
            result = await handle.result(timeout=60)
    assert asked == []
    assert "Nobody can be asked any more" in str(result.output)


async def test_the_toolkit_offers_its_callbacks_to_the_tasks_it_starts(
    tmp_path: Path, site: SiteServer, person: Browser
) -> None:
    # on_question answers ask_person; on_handoff (given) lets the agent hand the browser over.
    pressed: list[asyncio.Task[str]] = []

    async def on_handoff(link: str, message: str) -> None:
        pressed.append(asyncio.create_task(hand_back(person, link, "Confirm the order")))

    model = ToolSeeingModel(
        steps=[
            call("ask_person", question="Which size?"),
            call("hand_over", message="Confirm the order"),
            call_with("finish", lambda m: {"answer_json": answer_of(m)}),
        ]
    )
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        options: dict[str, Any] = {"on_question": lambda q: f"medium ({q})", "on_handoff": on_handoff}
        with SmoothToolkit(api_key=SecretStr(API_KEY), base_url=server.base_url, **options) as toolkit:
            browse = next(t for t in toolkit.get_tools() if t.name == "smooth_browse")
            call_id = {"name": "smooth_browse", "id": "call_1", "type": "tool_call"}
            answer = await browse.ainvoke(
                {**call_id, "args": {"task": "Order a shirt", "url": site.url("shop/index.html")}}
            )
    assert answer.artifact["output"] == "medium (Which size?)"
    assert "Confirm the order" in await pressed[0]
    assert "The person handed the browser back." in tool_texts(model.seen[-1])
