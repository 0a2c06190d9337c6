"""A task started by smooth_browse reaches the MCP client's person: the agent's ``ask_person`` is
a form elicitation, its ``hand_over`` a URL elicitation with the task's interactive live view
(the person presses Done there, played by a real Chromium), under both protocol modes; a client
that cannot elicit offers neither; on the Smooth cloud only ``ask_person`` is offered, answered
through the custom-tool round trip (here the self-hosted server dressed as the cloud, behind the
fault injector, its events duplicated)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp_types import ElicitRequestFormParams, ElicitRequestURLParams
from playwright.async_api import Browser

from smooth_agents import AsyncSmoothClient, PollSettings
from smooth_agents.config import DEFAULT_BASE_URL
from smooth_agents.local import ThreadedServer, create_app
from smooth_agents.protocol import live_view_link
from tests.faults import TASK, Fault, FaultInjector, duplicate_events, script
from tests.helpers import API_KEY, AppServer, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, last_tool_text
from tests.langchain.test_task_person import ToolSeeingModel
from tests.mcp.test_handoff import MODES, SIGN_IN, Host, answering, going, serve, text_of
from tests.person import person_browser

QUESTION = "Which size do you wear?"


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    async with person_browser() as browser:
        yield browser


class Served:
    """The local server with a scripted model, and a client of it."""

    def __init__(self, tmp: Path, model: ToolSeeingModel) -> None:
        self.server = ThreadedServer(make_settings(tmp, model=model))

    async def __aenter__(self) -> AsyncSmoothClient:
        self.server.__enter__()
        self.client = AsyncSmoothClient(api_key=API_KEY, base_url=self.server.base_url)
        return await self.client.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)
        self.server.__exit__(None, None, None)


async def browse(mcp: Client, **arguments: Any) -> dict[str, Any]:
    result = await mcp.call_tool("smooth_browse", arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return {**result.structured_content, "text": text_of(result)}


@pytest.mark.parametrize("mode", MODES)
async def test_the_agent_asks_through_a_form_and_gets_the_answer(
    tmp_path: Path, site: SiteServer, mode: dict[str, Any]
) -> None:
    model = ToolSeeingModel(
        steps=[
            call("ask_person", question=QUESTION),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "ask_person")}),
        ]
    )
    host = Host(form=answering("accept", {"answer": "medium"}))
    async with Served(tmp_path, model) as client, host.client(serve(client), mode) as mcp:
        answered = await browse(mcp, task="Order a shirt", url=site.url("shop/index.html"))
    assert answered["status"] == "done"
    assert json.loads(answered["output"]) == {"answer": "medium"}
    [asked] = host.asked
    assert isinstance(asked, ElicitRequestFormParams)
    assert asked.message == QUESTION
    assert list(asked.requested_schema["properties"]) == ["answer"]
    assert "hand_over" in model.offered  # the client takes URL elicitation too


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_question_left_unanswered_is_told_to_the_agent(
    tmp_path: Path, site: SiteServer, action: str
) -> None:
    model = ToolSeeingModel(
        steps=[
            call("ask_person", question=QUESTION),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "ask_person")}),
        ]
    )
    host = Host(form=answering(action))
    async with Served(tmp_path, model) as client, host.client(serve(client), {}) as mcp:
        answered = await browse(mcp, task="Order a shirt", url=site.url("shop/index.html"))
    assert answered["status"] == "done"
    said = "declined to answer" if action == "decline" else "dismissed the question"
    assert said in answered["output"]


@pytest.mark.parametrize("mode", MODES)
async def test_the_agent_hands_the_browser_over_through_the_host(
    tmp_path: Path, site: SiteServer, person: Browser, mode: dict[str, Any]
) -> None:
    model = ToolSeeingModel(
        steps=[
            call("hand_over", message=SIGN_IN),
            call_with("finish", lambda m: {"answer_json": last_tool_text(m, "hand_over").split("\n")[0]}),
        ]
    )
    pressed: list[Any] = []
    host = Host(url=going(person, pressed))
    async with Served(tmp_path, model) as client, host.client(serve(client), mode) as mcp:
        answered = await browse(mcp, task="Open my account", url=site.url("login/index.html"))
    assert answered["output"] == "The person handed the browser back."
    assert SIGN_IN in await pressed[0]  # the live view showed the agent's message
    [asked] = host.asked
    assert isinstance(asked, ElicitRequestURLParams)
    assert asked.message == SIGN_IN
    assert asked.url == live_view_link(answered["live_url"], interactive=True)
    # Under the handshake the host is told the elicitation it showed is complete.
    assert host.completed == ([asked.elicitation_id] if mode else [])


async def test_a_client_that_cannot_elicit_offers_no_person(tmp_path: Path, site: SiteServer) -> None:
    model = ToolSeeingModel(steps=[call("finish", answer_json="alone")])
    async with Served(tmp_path, model) as client, Client(serve(client)) as mcp:
        answered = await browse(mcp, task="Look", url=site.url("shop/index.html"))
    assert answered["output"] == "alone"
    assert "ask_person" not in model.offered
    assert "hand_over" not in model.offered


# -- the Smooth cloud: only ask_person, through the custom-tool round trip -----------------------


class ToLoopback(httpx2.AsyncBaseTransport):
    """Sends what the client addresses to the cloud to a loopback server instead, so the client
    takes it for the cloud (no hand-over there)."""

    def __init__(self, base_url: str) -> None:
        self._target = httpx2.URL(base_url)
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(
            scheme=self._target.scheme, host=self._target.host, port=self._target.port
        )
        request.headers["host"] = self._target.netloc.decode()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[tuple[FaultInjector, AppServer]]:
    injector = FaultInjector(create_app(make_settings(tmp_path)))
    with AppServer(injector) as server:
        yield injector, server


async def test_on_the_cloud_the_agent_may_ask_but_not_hand_over(
    cloud: tuple[FaultInjector, AppServer], site: SiteServer
) -> None:
    injector, server = cloud
    injector.add(Fault("GET", TASK, times=-1, rewrite=duplicate_events))  # each tool call seen twice
    host = Host(form=answering("accept", {"answer": "medium"}))
    poll = PollSettings(long_poll=False, max_delay=0.2)
    asking = script(
        {"action": "tool", "name": "ask_person", "input": {"question": QUESTION}},
        {"action": "return", "from": "last"},
    )
    handing = script({"action": "tool", "name": "hand_over", "input": {"message": SIGN_IN}})
    async with (
        AsyncSmoothClient(
            api_key=API_KEY, base_url=DEFAULT_BASE_URL, transport=ToLoopback(server.base_url), poll=poll
        ) as client,
        host.client(serve(client), {}) as mcp,
    ):
        assert not client.has_hand_back
        answered = await browse(mcp, task=asking)
        refused = await mcp.call_tool("smooth_browse", {"task": handing})
    assert answered["output"] == {"answer": "medium"}
    assert len(host.asked) == 1  # asked once, though the tool call came twice
    assert refused.is_error
    assert "no custom tool named 'hand_over' (declared: ['ask_person'])" in text_of(refused)
