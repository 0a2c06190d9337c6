"""A person at the live view, played by a real Chromium of its own: they open the link they were
given, read the message the view shows above the page, and press Done (a click on the button, as
a person does, never a call into the page)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import websockets
from playwright.async_api import Browser, Page, async_playwright

from smooth_agents.local.browser.chromium import find_chromium


@asynccontextmanager
async def person_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(None, playwright), args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_view(browser: Browser, link: str) -> Page:
    """The live view at ``link``, once its first picture shows."""
    view = await browser.new_page(viewport={"width": 900, "height": 650})
    await view.goto(link)
    await view.locator("#frame[src^='blob:']").wait_for()
    return view


async def hand_back(browser: Browser, link: str, expected_message: str = "", timeout: float = 30.0) -> str:
    """Open ``link``, wait for the hand-over's banner, press Done; the message the banner showed."""
    view = await open_view(browser, link)
    try:
        banner = view.locator("#handover")
        await banner.wait_for(timeout=timeout * 1000)
        shown = await view.locator("#handover-message").inner_text()
        assert expected_message in shown, shown
        await view.locator("#done").click()
        await banner.wait_for(state="hidden", timeout=timeout * 1000)
        return shown
    finally:
        await view.close()


async def done_over_the_socket(link: str, timeout: float = 30.0) -> None:
    """What the Done button sends, sent over the live view's socket once the hand-over shows (for
    suites about something else than the person: no browser is started)."""
    socket_url = link.replace("http://", "ws://").replace("?", "/socket?", 1)
    async with asyncio.timeout(timeout), websockets.connect(socket_url) as socket:
        async for message in socket:
            if isinstance(message, str) and json.loads(message).get("hand_over"):
                await socket.send(json.dumps({"type": "done"}))
                return


async def sign_in_and_hand_back(
    browser: Browser, link: str, fields: dict[str, dict[str, float]], username: str, password: str
) -> None:
    """What a person does with a sign-in page handed to them: click the username field on the
    picture, type, the password field, type, Enter; then Done once the account page shows.
    ``fields``: each field's centre as fractions of the session's viewport, read before the
    hand-over (the session answers no action while the person has it)."""
    view = await open_view(browser, link)
    try:
        await view.locator("#handover").wait_for()
        for selector, typed in (("#username", username), ("#password", password)):
            box = await view.locator("#frame").bounding_box()
            assert box is not None
            point = fields[selector]
            await view.mouse.click(
                box["x"] + point["x"] * box["width"], box["y"] + point["y"] * box["height"]
            )
            await view.keyboard.type(typed)
        await view.keyboard.press("Enter")
        await view.locator("#url", has_text="/login/account").wait_for()
        await view.locator("#done").click()
        await view.locator("#handover").wait_for(state="hidden")
    finally:
        await view.close()
