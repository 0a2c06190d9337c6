"""smooth_session_handoff over MCP: the host asks the person by elicitation (URL mode: the
interactive live view; form mode: "are you done?" where the view sends no signal), and a real
Chromium plays the person, pressing Done on the live view. Under both protocol modes: the
initialize handshake (requests on the connection, and the completion notice) and 2026-07-28
(requests riding "input required" answers of the call itself)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client, ClientRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    CallToolResult,
    ElicitCompleteNotification,
    ElicitRequestFormParams,
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
)
from playwright.async_api import Browser

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient, PollSettings
from smooth_agents.agent_tools import ToolRuntime, ToolSettings, handoff
from smooth_agents.local import ThreadedServer, create_app
from smooth_agents.protocol import live_view_link
from tests.faults import EVENT, Fault, FaultInjector, RefusedAfterTaking
from tests.helpers import API_KEY, AppServer, LoginSite, SiteServer, make_settings
from tests.person import done_over_the_socket, hand_back, person_browser, sign_in_and_hand_back
from tests.reading import part_in_text, read_on_arguments
from tests.redis_server import redis_server

MODES = [pytest.param({"mode": "legacy"}, id="handshake"), pytest.param({}, id="protocol-2026")]
SIGN_IN = "Sign in as Ada, please"


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    async with person_browser() as browser:
        yield browser


def serve(client: AsyncSmoothClient, **settings: Any) -> MCPServer[ToolRuntime]:
    tools = ToolSettings(**{"wait_seconds": 20, "content_budget": 4000, **settings})
    server, _runtime = build_server(MCPSettings(tools=tools), client=client)
    return server


class Host:
    """An MCP host's side of elicitation: what it was asked, what the person answered, and the
    completion notices it got. ``url`` answers a URL-mode request (the person goes, or not);
    ``form`` a form-mode one."""

    def __init__(
        self,
        url: Callable[[ElicitRequestURLParams], Awaitable[ElicitResult]] | None = None,
        form: Callable[[ElicitRequestFormParams], Awaitable[ElicitResult]] | None = None,
    ) -> None:
        self.asked: list[ElicitRequestParams] = []
        self.completed: list[str] = []
        self._url = url
        self._form = form

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params)
        if isinstance(params, ElicitRequestURLParams):
            assert self._url is not None, params
            return await self._url(params)
        assert isinstance(params, ElicitRequestFormParams), params
        assert self._form is not None, params
        return await self._form(params)

    async def notified(self, message: Any) -> None:
        if isinstance(message, ElicitCompleteNotification):
            self.completed.append(message.params.elicitation_id)

    def client(self, server: MCPServer[ToolRuntime], mode: dict[str, Any]) -> Client:
        return Client(server, **mode, elicitation_callback=self, message_handler=self.notified)


def going(
    person: Browser, pressed: list[asyncio.Task[str]]
) -> Callable[[ElicitRequestURLParams], Awaitable[ElicitResult]]:
    """The person accepts to go, and presses Done once there (in the background: the host's
    answer is that they went, not that they are done)."""

    async def go(params: ElicitRequestURLParams) -> ElicitResult:
        pressed.append(asyncio.get_running_loop().create_task(hand_back(person, params.url, SIGN_IN)))
        return ElicitResult(action="accept")

    return go


def answering(action: str, content: dict[str, Any] | None = None) -> Callable[[Any], Awaitable[ElicitResult]]:
    async def answer(params: Any) -> ElicitResult:
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return answer


async def call(mcp: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    return await mcp.call_tool(name, arguments)


def text_of(result: CallToolResult) -> str:
    return "\n".join(str(getattr(block, "text", "")) for block in result.content)


async def open_login(mcp: Client, site: SiteServer) -> tuple[str, str]:
    opened = await mcp.call_tool("smooth_session_open", {"url": site.url("login/index.html")})
    assert not opened.is_error, opened.content
    assert opened.structured_content is not None
    return str(opened.structured_content["session_id"]), str(opened.structured_content["live_url"])


@pytest.mark.parametrize("mode", MODES)
async def test_the_person_takes_the_browser_and_hands_it_back(
    smooth_client: AsyncSmoothClient, site: SiteServer, person: Browser, mode: dict[str, Any]
) -> None:
    pressed: list[asyncio.Task[str]] = []
    host = Host(url=going(person, pressed))
    async with host.client(serve(smooth_client), mode) as mcp:
        session_id, live_url = await open_login(mcp, site)
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert not result.is_error, result.content
        structured = result.structured_content
        assert structured is not None
        assert structured["status"] == "handed back"
        assert structured["handed_back"] is True
        assert structured["url"] == site.url("login/index.html")
        assert structured["title"] == "Sign in | Login Site"
        assert structured["link"] == live_view_link(live_url, interactive=True)
        text = text_of(result)
        assert "handed session" in text
        assert "back" in text
        assert "Sign in" in text  # what the page says reaches the model's text
        await call(mcp, "smooth_session_close", {"session_id": session_id})
    # The host was asked once, in URL mode, with the interactive live view; the view showed the
    # message; under the handshake the host was told the elicitation is complete.
    assert len(host.asked) == 1
    asked = host.asked[0]
    assert isinstance(asked, ElicitRequestURLParams)
    assert asked.url == live_view_link(live_url, interactive=True)
    assert SIGN_IN in asked.message
    assert "Done" in asked.message
    assert len(pressed) == 1
    assert SIGN_IN in await pressed[0]  # the view showed the message
    if mode:
        assert host.completed == [asked.elicitation_id]
    else:
        assert host.completed == []  # 2026-07-28 has no such notice: the call's answer is it


FIELDS_JS = (
    "(args) => Object.fromEntries(args.selectors.map((s) => { const r = "
    "document.querySelector(s).getBoundingClientRect(); return [s, {x: (r.x + r.width / 2) / "
    "innerWidth, y: (r.y + r.height / 2) / innerHeight}]; }))"
)


@pytest.mark.parametrize("mode", MODES)
async def test_a_person_signs_in_once_and_the_profile_keeps_it(
    smooth_client: AsyncSmoothClient, site: SiteServer, person: Browser, mode: dict[str, Any]
) -> None:
    # The documented flow, over MCP: a profile, a session with it on the sign-in page, the person
    # signs in on the live view (clicks and keys on the picture) and hands back; the session is
    # closed; the next session with the profile starts signed in. The password never passes
    # through the host or the model.
    username = "ada"
    password, name = LoginSite.USERS[username]
    seen: list[str] = []

    async def person_goes(params: ElicitRequestURLParams) -> ElicitResult:
        pressed.append(
            asyncio.create_task(sign_in_and_hand_back(person, params.url, fields, username, password))
        )
        return ElicitResult(action="accept")

    pressed: list[asyncio.Task[None]] = []
    fields: dict[str, dict[str, float]] = {}
    host = Host(url=person_goes)
    async with host.client(serve(smooth_client), mode) as mcp:

        async def use(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await call(mcp, name, arguments)
            assert not result.is_error, result.content
            assert result.structured_content is not None
            seen.append(text_of(result) + json.dumps(result.structured_content))
            return dict(result.structured_content)

        profile_id = (await use("smooth_profile_create", {}))["profile_id"]
        opened = await use(
            "smooth_session_open", {"url": site.url("login/index.html"), "profile_id": profile_id}
        )
        session_id = opened["session_id"]
        where = await use(
            "smooth_session_evaluate_js",
            {"session_id": session_id, "code": FIELDS_JS, "args": {"selectors": ["#username", "#password"]}},
        )
        fields.update(where["result"])
        back = await use("smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert back["status"] == "handed back"
        assert back["url"] == site.url("login/account")
        assert f"Signed in as {name}" in back["text"]
        await use("smooth_session_close", {"session_id": session_id})
        again = await use("smooth_session_open", {"url": site.url("login/account"), "profile_id": profile_id})
        assert again["title"] == "Your account | Login Site"  # signed in, by the profile's cookies
        await use("smooth_session_close", {"session_id": again["session_id"]})
        await use("smooth_profile_delete", {"profile_id": profile_id})
    await pressed[0]
    said_to_the_host = json.dumps([asked.model_dump(mode="json") for asked in host.asked])
    assert password not in said_to_the_host
    assert not any(password in text for text in seen)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("action", "status"), [("decline", "declined"), ("cancel", "cancelled")])
async def test_a_person_who_declines_or_dismisses_gets_no_browser(
    smooth_client: AsyncSmoothClient, site: SiteServer, mode: dict[str, Any], action: str, status: str
) -> None:
    host = Host(url=answering(action))
    async with host.client(serve(smooth_client), mode) as mcp:
        session_id, _ = await open_login(mcp, site)
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert not result.is_error, result.content
        assert result.structured_content is not None
        assert result.structured_content["status"] == status
        assert result.structured_content["handed_back"] is False
        assert result.structured_content["title"] == "Sign in | Login Site"
        # The hand-over was cancelled: the session answers at once again.
        value = await asyncio.wait_for(
            call(mcp, "smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"}), 10
        )
        assert not value.is_error, value.content
        await call(mcp, "smooth_session_close", {"session_id": session_id})
    assert host.completed == []


@pytest.mark.parametrize("mode", MODES)
async def test_the_person_who_never_hands_back_times_out(
    smooth_client: AsyncSmoothClient, site: SiteServer, mode: dict[str, Any]
) -> None:
    host = Host(url=answering("accept"))
    async with host.client(serve(smooth_client, handoff_timeout=1.5), mode) as mcp:
        session_id, _ = await open_login(mcp, site)
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert result.structured_content is not None
        assert result.structured_content["status"] == "timed out"
        assert "give them more time" in text_of(result)
        await call(mcp, "smooth_session_close", {"session_id": session_id})


@pytest.mark.parametrize("mode", MODES)
async def test_a_host_slow_to_ask_the_person_is_not_waited_for_past_the_timeout(
    smooth_client: AsyncSmoothClient, site: SiteServer, mode: dict[str, Any]
) -> None:
    async def slow(params: ElicitRequestURLParams) -> ElicitResult:
        await asyncio.sleep(3)  # the host shows the request; nobody answers it for a while
        return ElicitResult(action="accept")

    host = Host(url=slow)
    async with host.client(serve(smooth_client, handoff_timeout=1.5), mode) as mcp:
        session_id, _ = await open_login(mcp, site)
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert result.structured_content is not None
        assert result.structured_content["status"] == "timed out"
        # The hand-over was ended: the session answers again.
        value = await asyncio.wait_for(
            call(mcp, "smooth_session_evaluate_js", {"session_id": session_id, "code": "1"}), 10
        )
        assert not value.is_error, value.content
        await call(mcp, "smooth_session_close", {"session_id": session_id})


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_that_cannot_elicit_gets_the_link_and_waits_on_the_next_call(
    smooth_client: AsyncSmoothClient,
    site: SiteServer,
    person: Browser,
    mode: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handoff, "PROGRESS_EVERY_SECONDS", 0.2)
    async with Client(serve(smooth_client), **mode) as mcp:
        session_id, live_url = await open_login(mcp, site)
        link = live_view_link(live_url, interactive=True)
        first = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert not first.is_error, first.content
        assert first.structured_content is not None
        assert first.structured_content["status"] == "waiting for the person"
        text = text_of(first)
        assert link in text
        assert SIGN_IN in text
        assert "press Done" in text
        assert "smooth_session_handoff" in text  # and what to call next
        # Meanwhile the session is in use: never idle, so never closed as abandoned.
        listed = await call(mcp, "smooth_session_list", {})
        assert listed.structured_content is not None
        assert listed.structured_content["sessions"][0]["idle_seconds"] == 0
        # While the person has it, other actions are refused at once, saying what to do instead.
        busy = await mcp.call_tool(
            "smooth_session_goto", {"session_id": session_id, "url": site.url("demo/index.html")}
        )
        assert busy.is_error
        assert "A person has the browser" in text_of(busy)
        assert "smooth_session_handoff" in text_of(busy)
        # The next call waits for the person (it sends no second hand-over), and says so meanwhile.
        reports: list[str] = []
        told_waiting = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            reports.append(message or "")
            if "waiting for the person" in (message or ""):
                told_waiting.set()

        waiting = asyncio.create_task(
            mcp.call_tool(
                "smooth_session_handoff",
                {"session_id": session_id, "message": SIGN_IN},
                progress_callback=on_progress,
            )
        )
        await asyncio.wait_for(told_waiting.wait(), 30)  # the call is waiting, and says so
        assert not waiting.done()
        await hand_back(person, link, SIGN_IN)
        second = await asyncio.wait_for(waiting, 30)
        assert second.structured_content is not None
        assert second.structured_content["status"] == "handed back", second.content
        assert second.structured_content["event_id"]
        await call(mcp, "smooth_session_close", {"session_id": session_id})


async def test_a_long_page_is_read_on_after_the_hand_back(
    smooth_client: AsyncSmoothClient, site: SiteServer, person: Browser
) -> None:
    pressed: list[asyncio.Task[str]] = []
    host = Host(url=going(person, pressed))
    async with host.client(serve(smooth_client, content_budget=2000), {}) as mcp:
        opened = await call(mcp, "smooth_session_open", {"url": site.url("long?chars=9000")})
        assert opened.structured_content is not None
        session_id = str(opened.structured_content["session_id"])
        parts = [await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})]
        while (arguments := read_on_arguments(text_of(parts[-1]))) is not None:
            assert len(parts) < 20
            parts.append(await call(mcp, "smooth_task_status", arguments))
        assert len(parts) >= 3, [text_of(p)[:200] for p in parts]
        whole = "".join(part_in_text(text_of(p)) for p in parts)
        task = await smooth_client.get_task(session_id)
        answer = next(e for e in task.events or () if e.id == parts[0].structured_content["event_id"])  # type: ignore[index]
        assert whole == answer.payload["output"]["output"]["text"]
        await call(mcp, "smooth_session_close", {"session_id": session_id})


# -- a server without hand_over (the Smooth cloud): no Done button, a form asks ---------------


@pytest.fixture(scope="module")
def no_hand_over(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[FaultInjector, AppServer]]:
    injector = FaultInjector(create_app(make_settings(Path(tmp_path_factory.mktemp("no-hand-over")))))
    with AppServer(injector) as server:
        yield injector, server


@pytest.fixture
async def cloud_like(no_hand_over: tuple[FaultInjector, AppServer]) -> AsyncIterator[AsyncSmoothClient]:
    """A client of a server that answers hand_over with an error, as the Smooth cloud answers an
    action it does not have (set per test: ``refuse_hand_over``)."""
    no_hand_over[0].clear()
    poll = PollSettings(long_poll=False, max_delay=0.2)  # as against the cloud: no long polls
    async with AsyncSmoothClient(api_key=API_KEY, base_url=no_hand_over[1].base_url, poll=poll) as client:
        yield client
    no_hand_over[0].clear()


def refuse_hand_over(injector: FaultInjector) -> None:
    injector.add(Fault("POST", EVENT, status=400))


@pytest.mark.parametrize("mode", MODES)
async def test_without_a_done_button_a_form_asks_the_person_whether_they_are_done(
    cloud_like: AsyncSmoothClient,
    no_hand_over: tuple[FaultInjector, AppServer],
    site: SiteServer,
    mode: dict[str, Any],
) -> None:
    host = Host(url=answering("accept"), form=answering("accept", {"done": True}))
    async with host.client(serve(cloud_like), mode) as mcp:
        session_id, live_url = await open_login(mcp, site)
        refuse_hand_over(no_hand_over[0])
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert not result.is_error, result.content
        assert result.structured_content is not None
        assert result.structured_content["status"] == "handed back"
        assert result.structured_content["title"] == "Sign in | Login Site"
        assert "Sign in" in str(result.structured_content["text"])
        await call(mcp, "smooth_session_close", {"session_id": session_id})
    url_ask, form_ask = host.asked
    assert isinstance(url_ask, ElicitRequestURLParams)
    assert url_ask.url == live_view_link(live_url, interactive=True)  # the service's own live view
    assert "confirm" in url_ask.message
    assert isinstance(form_ask, ElicitRequestFormParams)
    assert list(form_ask.requested_schema["properties"]) == ["done"]
    assert host.completed == ([url_ask.elicitation_id] if mode else [])


async def test_a_server_that_refuses_the_hand_over_late_falls_back_to_the_form(
    cloud_like: AsyncSmoothClient, no_hand_over: tuple[FaultInjector, AppServer], site: SiteServer
) -> None:
    # The POST is taken and the refusal comes as the action's answer, after the person was sent
    # to the link: they are then asked whether they are done.
    host = Host(url=answering("accept"), form=answering("accept", {"done": True}))
    async with host.client(serve(cloud_like, handoff_timeout=2), {}) as mcp:
        session_id, _ = await open_login(mcp, site)
        RefusedAfterTaking(no_hand_over[0])
        result = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert not result.is_error, result.content
        assert result.structured_content is not None
        assert result.structured_content["status"] == "handed back"
        assert result.structured_content["title"] == "Sign in | Login Site"
        await call(mcp, "smooth_session_close", {"session_id": session_id})
    assert [type(asked) for asked in host.asked] == [ElicitRequestURLParams, ElicitRequestFormParams]


async def test_without_a_done_button_or_elicitation_the_model_asks_the_person(
    cloud_like: AsyncSmoothClient, no_hand_over: tuple[FaultInjector, AppServer], site: SiteServer
) -> None:
    async with Client(serve(cloud_like)) as mcp:
        session_id, live_url = await open_login(mcp, site)
        refuse_hand_over(no_hand_over[0])
        first = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert first.structured_content is not None
        assert first.structured_content["status"] == "waiting for the person"
        text = text_of(first)
        assert live_view_link(live_url, interactive=True) in text
        assert "tell me you are done" in text
        # The person said so (to the model); the next call answers with the page.
        second = await call(mcp, "smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        assert second.structured_content is not None
        assert second.structured_content["status"] == "handed back"
        assert second.structured_content["title"] == "Sign in | Login Site"
        await call(mcp, "smooth_session_close", {"session_id": session_id})


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


async def test_without_a_done_button_a_person_told_through_one_replica_is_done_through_any(
    no_hand_over: tuple[FaultInjector, AppServer], redis_url: str, site: SiteServer
) -> None:
    """Replicas sharing a store (two servers in this process, each with a client of its own): the
    link given through one, the model's next call lands on the other and answers with the page
    instead of giving the link again; read once, a later call gives a new one."""
    injector, server = no_hand_over
    injector.clear()
    poll = PollSettings(long_poll=False, max_delay=0.2)
    tools = ToolSettings(wait_seconds=20, content_budget=4000)
    handoff = {"message": SIGN_IN}
    async with (
        AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url, poll=poll) as client_a,
        AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url, poll=poll) as client_b,
        Client(build_server(MCPSettings(tools=tools, state_url=redis_url), client=client_a)[0]) as via_a,
        Client(build_server(MCPSettings(tools=tools, state_url=redis_url), client=client_b)[0]) as via_b,
    ):
        session_id, _ = await open_login(via_a, site)
        handoff["session_id"] = session_id
        refuse_hand_over(injector)
        first = await call(via_a, "smooth_session_handoff", handoff)
        assert first.structured_content is not None
        assert first.structured_content["status"] == "waiting for the person", first.content
        second = await call(via_b, "smooth_session_handoff", handoff)
        assert second.structured_content is not None
        assert second.structured_content["status"] == "handed back", second.content
        assert second.structured_content["title"] == "Sign in | Login Site"
        refuse_hand_over(injector)
        third = await call(via_a, "smooth_session_handoff", handoff)
        assert third.structured_content is not None
        assert third.structured_content["status"] == "waiting for the person", third.content
        await call(via_b, "smooth_session_close", {"session_id": session_id})
    injector.clear()


async def test_a_hand_over_whose_call_was_cut_off_is_waited_for_through_another_replica(
    local_server: ThreadedServer, redis_url: str, site: SiteServer
) -> None:
    """Replicas sharing a store: the person accepted through one replica's host, then that call was
    cut off (the host gave up); the next call, through the other replica, waits for that same
    hand-over instead of handing the browser over a second time."""
    tools = ToolSettings(wait_seconds=20, content_budget=4000)
    host = Host(url=answering("accept"))
    async with (
        AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client_a,
        AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client_b,
        host.client(
            build_server(MCPSettings(tools=tools, state_url=redis_url), client=client_a)[0], {}
        ) as via_a,
        Client(build_server(MCPSettings(tools=tools, state_url=redis_url), client=client_b)[0]) as via_b,
    ):
        session_id, live_url = await open_login(via_a, site)
        handoff = {"session_id": session_id, "message": SIGN_IN}
        cut = asyncio.create_task(call(via_a, "smooth_session_handoff", handoff))
        for _ in range(600):  # until the person was asked: the hand-over is pending
            if host.asked or cut.done():
                break
            await asyncio.sleep(0.05)
        assert host.asked, cut
        cut.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cut
        waiting = asyncio.create_task(call(via_b, "smooth_session_handoff", handoff))
        await done_over_the_socket(live_view_link(live_url, interactive=True))
        back = await asyncio.wait_for(waiting, 60)
        assert back.structured_content is not None
        assert back.structured_content["status"] == "handed back", back.content
        assert back.structured_content["title"] == "Sign in | Login Site"
        await call(via_b, "smooth_session_close", {"session_id": session_id})


def test_the_result_schema_is_what_the_text_says() -> None:
    from smooth_agents.agent_tools.handoff import SESSION_HANDOFF

    schema = SESSION_HANDOFF.output_schema()
    assert set(schema["properties"]["status"]["enum"]) == {
        "handed back",
        "waiting for the person",
        "declined",
        "cancelled",
        "timed out",
        "closed",
    }
    assert json.dumps(schema)  # plain JSON
