"""SmoothSessionHandoffTool: ``on_handoff(link, message)`` tells the person, the tool waits until
they press Done on the live view (a real Chromium plays them); sync and async, the default
callback on stderr, and a LangGraph agent that pauses on ``interrupt`` and resumes after Done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt
from playwright.async_api import Browser
from pydantic import SecretStr

from langchain_tools import SmoothSessionHandoffTool, SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer
from tests.person import hand_back, person_browser

SIGN_IN = "Sign in as Ada, please"


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    async with person_browser() as browser:
        yield browser


def toolkit_for(server: ThreadedServer, **options: Any) -> SmoothToolkit:
    return SmoothToolkit(api_key=SecretStr(API_KEY), base_url=server.base_url, **options)


def tool_call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": f"call-{name}", "name": name, "args": arguments}


async def test_the_tool_tells_the_person_and_waits_for_done(
    local_server: ThreadedServer, site: SiteServer, person: Browser
) -> None:
    loop = asyncio.get_running_loop()
    told: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def on_handoff(link: str, message: str) -> None:  # a plain function: called on a thread
        loop.call_soon_threadsafe(told.put_nowait, (link, message))

    with toolkit_for(local_server, on_handoff=on_handoff) as toolkit:
        tools = {t.name: t for t in toolkit.get_tools()}
        assert isinstance(tools["smooth_session_handoff"], SmoothSessionHandoffTool)
        opened = await asyncio.to_thread(
            tools["smooth_session_open"].invoke,
            tool_call("smooth_session_open", url=site.url("login/index.html")),
        )
        session_id = opened.artifact["session_id"]
        handing = tools["smooth_session_handoff"]
        waiting = asyncio.create_task(
            asyncio.to_thread(handing.invoke, tool_call(handing.name, session_id=session_id, message=SIGN_IN))
        )
        link, message = await asyncio.wait_for(told.get(), 30)
        assert "interactive=true" in link
        assert SIGN_IN in message
        assert "Done" in message
        await hand_back(person, link, SIGN_IN)
        answer: ToolMessage = await asyncio.wait_for(waiting, 30)
    assert answer.artifact["status"] == "handed back"
    assert answer.artifact["title"] == "Sign in | Login Site"
    assert "handed session" in str(answer.content)
    assert "Sign in" in str(answer.content)  # what the page says, in the text the model reads


async def test_an_async_callback_runs_on_the_callers_loop(
    local_server: ThreadedServer, site: SiteServer, person: Browser
) -> None:
    caller = asyncio.get_running_loop()
    pressed: list[asyncio.Task[str]] = []

    async def on_handoff(link: str, message: str) -> None:
        assert asyncio.get_running_loop() is caller
        pressed.append(asyncio.create_task(hand_back(person, link, SIGN_IN)))

    with toolkit_for(local_server, on_handoff=on_handoff) as toolkit:
        tools = {t.name: t for t in toolkit.get_tools()}
        opened = await tools["smooth_session_open"].ainvoke(
            tool_call("smooth_session_open", url=site.url("login/index.html"))
        )
        answer = await tools["smooth_session_handoff"].ainvoke(
            tool_call("smooth_session_handoff", session_id=opened.artifact["session_id"], message=SIGN_IN)
        )
    assert answer.artifact["status"] == "handed back"
    assert SIGN_IN in await pressed[0]


def test_by_default_the_link_goes_to_stderr(
    local_server: ThreadedServer, site: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with toolkit_for(local_server, handoff_timeout=1) as toolkit:
        tools = {t.name: t for t in toolkit.get_tools()}
        opened = tools["smooth_session_open"].invoke(
            tool_call("smooth_session_open", url=site.url("login/index.html"))
        )
        answer = tools["smooth_session_handoff"].invoke(
            tool_call("smooth_session_handoff", session_id=opened.artifact["session_id"], message=SIGN_IN)
        )
    assert answer.artifact["status"] == "timed out"  # nobody pressed Done
    said = capsys.readouterr().err
    assert SIGN_IN in said
    assert answer.artifact["link"] in said


async def test_a_langgraph_agent_pauses_on_interrupt_and_resumes_once_the_person_is_done(
    local_server: ThreadedServer, site: SiteServer, person: Browser
) -> None:
    def ask_person(link: str, message: str) -> None:
        # The graph stops here; the app shows the link, and resumes when the person is done.
        interrupt({"link": link, "message": message})

    def open_login(messages: Sequence[BaseMessage]) -> AIMessage:
        return AIMessage("", tool_calls=[tool_call("smooth_session_open", url=site.url("login/index.html"))])

    def hand_over(messages: Sequence[BaseMessage]) -> AIMessage:
        opened = next(m for m in messages if isinstance(m, ToolMessage))
        session_id = opened.artifact["session_id"]
        return AIMessage(
            "", tool_calls=[tool_call("smooth_session_handoff", session_id=session_id, message=SIGN_IN)]
        )

    def finish(messages: Sequence[BaseMessage]) -> AIMessage:
        return AIMessage("Signed in.")

    model = ScriptedChatModel(steps=[open_login, hand_over, finish])
    with toolkit_for(local_server, on_handoff=ask_person) as toolkit:
        agent = create_agent(model, toolkit.get_tools(), checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "sign-in"}}
        paused = await asyncio.to_thread(agent.invoke, {"messages": [("user", "Sign me in")]}, config)
        (asked,) = paused["__interrupt__"]
        assert SIGN_IN in asked.value["message"]
        # The app hands the person the link; they press Done; the app resumes the graph.
        await hand_back(person, asked.value["link"], SIGN_IN)
        ended = await asyncio.to_thread(agent.invoke, Command(resume="done"), config)
    answer = next(
        m for m in ended["messages"] if isinstance(m, ToolMessage) and m.name == "smooth_session_handoff"
    )
    assert answer.artifact["status"] == "handed back"
    assert ended["messages"][-1].content == "Signed in."
