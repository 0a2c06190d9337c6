"""An action waits for what it started before the page state answers it: a timer's change, a fetch
and its render, a navigation and the new page's data; and no longer than its cap when the page
never stops changing, which the state then says (real Chromium, pages served on loopback)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from smooth_agents.local.agents.elements import ElementActions
from tests.helpers import SiteServer

STILL_CHANGING = "the page was still changing"


def ref_of(state: str, role: str, name: str) -> str:
    found = re.search(rf'- {role} "{re.escape(name)}" \[ref=(e\d+)\]', state)
    assert found, f"no {role} {name!r} in:\n{state}"
    return found.group(1)


# A cap that the cases below, each done within half a second, do not meet even when a loaded
# machine runs their timers and fetches late: what they test is the wait, not the cap.
ROOMY_CAP = 3.0


async def click_and_look(page: Page, site: SiteServer, button: str, **options: float) -> str:
    """The late page, a click on one of its buttons, and the page state after it."""
    await page.goto(site.url("settle/late.html"))
    elements = ElementActions(page, **options)
    before = (await elements.state()).as_text()
    await elements.click(ref_of(before, "button", button))
    return (await elements.state()).as_text()


@pytest.mark.parametrize(
    ("button", "change"),
    [
        ("Change after 300 ms", "Changed 300 ms after the click"),
        ("Fetch then show", "Fetched: slow done"),
        ("Timer then fetch then show", "Fetched after a timer: slow done"),
    ],
)
async def test_the_state_after_a_click_shows_what_the_click_caused_later(
    page: Page, site: SiteServer, button: str, change: str
) -> None:
    state = await click_and_look(page, site, button, settle_cap=ROOMY_CAP)
    assert change in state
    assert STILL_CHANGING not in state


async def test_a_click_that_changes_nothing_is_answered_as_settled(page: Page, site: SiteServer) -> None:
    await page.goto(site.url("settle/late.html"))
    original = await page.evaluate("() => { window.originalTimer = setTimeout; return true; }")
    assert original
    elements = ElementActions(page)
    before = await elements.state()
    await elements.click(ref_of(before.outline, "button", "Change nothing"))
    after = await elements.state()
    assert STILL_CHANGING not in after.as_text()
    assert after.outline == before.outline
    # The page's timer functions are its own again once the wait is over.
    assert await page.evaluate("() => window.setTimeout === window.originalTimer")


async def test_typing_waits_for_the_suggestions_a_pause_and_a_fetch_bring(
    page: Page, site: SiteServer
) -> None:
    await page.goto(site.url("settle/late.html"))
    elements = ElementActions(page, settle_cap=ROOMY_CAP)
    before = (await elements.state()).as_text()
    await elements.type(ref_of(before, "searchbox", "Find a city"), "Spring")
    after = (await elements.state()).as_text()
    assert "Springville" in after
    assert "Port Spring" in after


async def test_a_navigation_a_timer_starts_is_followed_to_the_new_page_and_its_data(
    page: Page, site: SiteServer
) -> None:
    state = await click_and_look(page, site, "Go to the next page", settle_cap=ROOMY_CAP)
    assert "Title: Rendered by its script" in state
    assert "The data arrived: slow done" in state  # fetched by the new page after it loaded


@pytest.mark.parametrize("button", ["Animate forever", "Tick forever", "Tick forever on a starved renderer"])
async def test_a_page_that_never_stops_changing_is_answered_at_the_cap_and_says_so(
    page: Page, site: SiteServer, button: str
) -> None:
    state = await click_and_look(page, site, button, settle_cap=0.5)
    assert f"{STILL_CHANGING} when the wait for it stopped at its 0.5 s cap" in state
    # Said once: a later look without an action in between does not repeat it.
    assert STILL_CHANGING not in (await ElementActions(page).state()).as_text()


async def test_a_click_whose_page_becomes_a_download_is_answered_once_the_download_is_told(
    page: Page, site: SiteServer
) -> None:
    # The link's answer is a file: the navigation ends aborted, and Playwright tells of the
    # download some milliseconds later; the page state answering the click must know of it.
    await page.goto(site.url("files/index.html"))
    told: list[str] = []
    page.on("download", lambda download: told.append(download.suggested_filename))
    elements = ElementActions(page, settle_cap=ROOMY_CAP)
    before = (await elements.state()).as_text()
    await elements.click(ref_of(before, "link", "Download the quarterly report (CSV)"))
    assert told == ["report.csv"]
