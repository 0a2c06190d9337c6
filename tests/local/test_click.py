"""A click presses what a person would: an element inside the window (or scrolled into it) is
pressed with real input events at its middle, even through the text inside it; one that something
else covers is not pressed through the cover, and the failure says why (real Chromium, a page
served on loopback)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from smooth_agents.local.agents.elements import ElementActions
from smooth_agents.local.browser.chromium import BrowserProvider
from smooth_agents.local.errors import ActionFailed
from tests.helpers import SiteServer


@pytest.fixture
async def page(site: SiteServer) -> AsyncIterator[Page]:
    provider = BrowserProvider()
    try:
        context = await provider.new_context()
        opened = await context.new_page()
        await opened.goto(site.url("click/index.html"))
        yield opened
    finally:
        await provider.aclose()


def ref_of(state: str, name: str) -> str:
    found = re.search(rf'- button "{re.escape(name)}" \[ref=(e\d+)\]', state)
    assert found, f"no button {name!r} in:\n{state}"
    return found.group(1)


async def pressed(page: Page) -> str:
    return await page.inner_text("#log")


async def test_a_button_is_pressed_through_the_text_inside_it(page: Page) -> None:
    elements = ElementActions(page)
    state = (await elements.state()).outline
    await elements.click(ref_of(state, "Press near"))
    assert await pressed(page) == "Pressed near by a real press"


async def test_a_button_below_the_window_is_scrolled_to_and_pressed(page: Page) -> None:
    elements = ElementActions(page)
    state = (await elements.state()).outline
    await elements.click(ref_of(state, "Press far down"))
    assert await pressed(page) == "Pressed far by a real press"
    assert await page.evaluate("window.scrollY") > 0


async def test_a_covered_button_is_not_pressed_and_the_failure_says_what_covers_it(page: Page) -> None:
    elements = ElementActions(page, timeout_ms=1_500)
    state = (await elements.state()).outline
    await elements.click(ref_of(state, "Put the cover on"))
    cover = re.escape('(<div id="cover"></div> intercepts pointer events)')
    with pytest.raises(ActionFailed, match=rf"Timeout 1500ms exceeded\. {cover}"):
        await elements.click(ref_of(state, "Press under the cover"))
    assert await pressed(page) == "Nothing pressed"
