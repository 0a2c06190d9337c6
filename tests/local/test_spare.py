"""The spare context (local/browser/spare.py): opened once the browser starts, taken by the first session
asking for the options it was opened with, left alone by any other session, and closed with the
provider."""

from __future__ import annotations

import asyncio

from smooth_agents.local.browser.chromium import DESKTOP_OPTIONS, BrowserProvider
from smooth_agents.local.browser.session import BrowserSession
from smooth_agents.local.browser.url_policy import UrlPolicy
from tests.helpers import SiteServer


async def contexts_settle(provider: BrowserProvider, count: int) -> None:
    browser = await provider.browser()
    async with asyncio.timeout(20):
        while len(browser.contexts) != count or not all(len(c.pages) == 1 for c in browser.contexts):
            await asyncio.sleep(0.02)


async def test_the_first_plain_session_takes_the_spare(site: SiteServer) -> None:
    provider = BrowserProvider()
    try:
        await provider.browser()
        await contexts_settle(provider, 1)  # the spare, opened as the browser started
        (spare,) = (await provider.browser()).contexts
        session = await BrowserSession.open(
            provider, device="desktop", policy=UrlPolicy(None), action_timeout=30
        )
        assert session.context is spare
        # The taken page is a page like any other: the session drives it.
        landed = await session.goto(site.url("demo/product.html"))
        assert landed.title.startswith("Nimbus 14 Pro Laptop")
        # Once taken, the spare is not opened again: the next session opens its own.
        assert await provider.take_spare(DESKTOP_OPTIONS) is None
        second = await BrowserSession.open(
            provider, device="desktop", policy=UrlPolicy(None), action_timeout=30
        )
        assert second.context is not spare
        await contexts_settle(provider, 2)
    finally:
        await provider.aclose()
    assert not provider.started


async def test_a_session_asking_otherwise_opens_its_own(site: SiteServer) -> None:
    provider = BrowserProvider()
    try:
        await provider.browser()
        await contexts_settle(provider, 1)
        (spare,) = (await provider.browser()).contexts
        mobile = await BrowserSession.open(
            provider, device="mobile", policy=UrlPolicy(None), action_timeout=30
        )
        assert mobile.context is not spare
        assert await mobile.page.evaluate("screen.width") == 412
        restricted = await BrowserSession.open(
            provider, device="desktop", policy=UrlPolicy([site.url("*")]), action_timeout=30
        )
        assert restricted.context is not spare
        assert await provider.take_spare(DESKTOP_OPTIONS) == (spare, spare.pages[0])
    finally:
        await provider.aclose()
