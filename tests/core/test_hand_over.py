"""``AsyncSession.hand_over`` and its blocking twin: the browser handed to a person at the
interactive live view, and back when they press Done there (a real Chromium plays the person);
timeouts, cancels, a second ask joining the pending one, and a server without the action."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from smooth_agents import (
    AsyncSmoothClient,
    HandOverUnsupportedError,
    PollSettings,
    SmoothClient,
    hand_over,
)
from smooth_agents.local import ThreadedServer
from smooth_agents.protocol import live_view_link
from tests.faults import EVENT, Fault, FaultInjector, RefusedAfterTaking
from tests.helpers import API_KEY, AppServer, SiteServer
from tests.person import hand_back, person_browser


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    async with person_browser() as browser:
        yield browser


async def test_a_hand_over_ends_when_the_person_presses_done(
    client: AsyncSmoothClient, site: SiteServer, person: Browser
) -> None:
    async with client.session(url=site.url("login/index.html")) as session:
        assert session.live_url
        waiting = asyncio.create_task(session.hand_over("Please sign in as Ada", timeout=120))
        shown = await hand_back(person, live_view_link(session.live_url), "Please sign in as Ada")
        assert "Please sign in as Ada" in shown
        ended = await asyncio.wait_for(waiting, 30)
        assert ended.handed_back is True
        assert ended.reason is None
        assert ended.url == site.url("login/index.html")
        assert ended.title == "Sign in | Login Site"
        assert "Sign in" in ended.text
        assert ended.event_id
        # The session is the person's no longer: actions are answered again.
        title = await session.evaluate_js("document.title")
        assert title.output == "Sign in | Login Site"


async def test_a_hand_over_times_out_or_is_cancelled(client: AsyncSmoothClient, site: SiteServer) -> None:
    async with client.session(url=site.url("login/index.html")) as session:
        timed_out = await session.hand_over("Sign in", timeout=0.5)
        assert (timed_out.handed_back, timed_out.reason) == (False, "timeout")
        assert timed_out.title == "Sign in | Login Site"

        pending = await hand_over.start(session, "Sign in", 600)
        assert not pending.done
        assert await session.cancel_hand_over() is True
        cancelled = await asyncio.wait_for(pending.result(), 30)
        assert (cancelled.handed_back, cancelled.reason) == (False, "cancelled")
        assert await session.cancel_hand_over() is False  # nothing pending any more


async def test_a_second_ask_waits_for_the_pending_hand_over(
    client: AsyncSmoothClient, site: SiteServer, person: Browser
) -> None:
    async with client.session(url=site.url("login/index.html")) as session:
        assert session.live_url
        first = await hand_over.start(session, "Sign in", 120)
        # Waiting on it and giving up leaves it pending.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(first.result(), 0.3)
        assert hand_over.last_of(session) is first
        assert first.joinable
        second = asyncio.create_task(session.hand_over("Sign in again"))
        await hand_back(person, live_view_link(session.live_url), "Sign in")
        ended = await asyncio.wait_for(second, 30)
        assert ended.handed_back
        assert ended.event_id == first.event_id  # one hand-over, not two
        assert hand_over.last_of(session) is first
        assert not first.joinable


async def test_the_blocking_client_hands_over_too(
    local_server: ThreadedServer, site: SiteServer, person: Browser
) -> None:
    with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        session = client.session(url=site.url("login/index.html"))
        try:
            assert session.live_url
            link = live_view_link(session.live_url)
            waiting = asyncio.create_task(asyncio.to_thread(session.hand_over, "Sign in", timeout=120))
            await hand_back(person, link, "Sign in")
            ended = await asyncio.wait_for(waiting, 30)
            assert ended.handed_back
            assert session.cancel_hand_over() is False
        finally:
            session.close()


def test_the_input_is_checked_before_anything_is_sent(local_server: ThreadedServer) -> None:
    with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        session = client.session()
        try:
            with pytest.raises(ValueError, match="at most 2000"):
                session.hand_over("x" * 2001)
            with pytest.raises(ValueError, match="timeout"):
                session.hand_over("Sign in", timeout=0)
        finally:
            session.close()


async def test_a_server_without_hand_over_says_so(
    faulty: tuple[FaultInjector, AppServer], injector: FaultInjector
) -> None:
    # The server answers the action as the Smooth cloud answers what it does not know: an error.
    async with (
        AsyncSmoothClient(api_key=API_KEY, base_url=faulty[1].base_url) as client,
        client.session() as session,
    ):
        injector.add(Fault("POST", EVENT, status=400))
        with pytest.raises(HandOverUnsupportedError):
            await session.hand_over("Sign in")
        injector.add(Fault("POST", EVENT, status=400))
        with pytest.raises(HandOverUnsupportedError):
            await session.cancel_hand_over()
        # The session goes on.
        assert (await session.evaluate_js("1 + 1")).output == 2


async def test_a_server_that_takes_the_action_and_then_refuses_it_says_so(
    faulty: tuple[FaultInjector, AppServer], injector: FaultInjector
) -> None:
    poll = PollSettings(long_poll=False, max_delay=0.2)
    async with (
        AsyncSmoothClient(api_key=API_KEY, base_url=faulty[1].base_url, poll=poll) as client,
        client.session() as session,
    ):
        RefusedAfterTaking(injector)
        with pytest.raises(HandOverUnsupportedError, match="Unknown browser_action"):
            await asyncio.wait_for(session.hand_over("Sign in", timeout=1), 20)
        injector.clear()
