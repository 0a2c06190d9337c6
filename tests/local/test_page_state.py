"""The model agent's page state on a real page: what gets a ref and a name, in what order, and
how refs behave across looks, scrolls and pages (real Chromium, pages served on loopback)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from smooth_agents.local.agents.elements import ElementActions
from smooth_agents.local.errors import ActionFailed
from tests.helpers import SiteServer


def line_of(outline: str, pattern: str) -> str:
    found = [line for line in outline.splitlines() if re.search(pattern, line)]
    assert found, f"no line matching {pattern!r} in:\n{outline}"
    return found[0].strip()


async def test_elements_get_refs_and_the_names_a_person_reads(page: Page, site: SiteServer) -> None:
    await page.goto(site.url("outline/index.html"))
    state = await ElementActions(page).state()
    text = state.as_text()
    # A link inside a heading is addressable, under its heading.
    assert line_of(text, "Upcoming events").startswith("## Upcoming events")
    assert re.search(r'- link "Upcoming events" \[ref=e\d+\] -> /events/', text)
    # Names: a label, aria-labelledby (not a select's options), an image's alt, an SVG's title.
    assert re.search(r'- textbox "Your city" \[ref=e\d+\]', text)
    assert re.search(r'- combobox "Shirt size" \[ref=e\d+\] value="Medium" options: Small \| Medium', text)
    assert re.search(r'- link "Shopping cart" \[ref=e\d+\] -> /cart', text)
    assert re.search(r'- link "Help centre" \[ref=e\d+\] -> /help', text)
    # Shown by its CSS despite the hidden attribute; aria-hidden but drawn on the page: both kept.
    assert "Our promise" in text
    assert "Second slide" in text
    # aria-hidden and parked off the page: nobody can reach it.
    assert "Parked menu item" not in text
    # Landmarks and dialogs are containers, not elements to act on.
    assert "navigation" not in text
    assert "dialog" not in text
    assert re.search(r'- button "Close offer" \[ref=e\d+\]', text)
    # Another site's address is its host and path; the tracking query is left out.
    assert "-> news.example/story" in text
    assert "utm_source" not in text
    # Text and links in document order: the link sits inside its sentence.
    lines = [line.strip() for line in state.outline.splitlines()]
    at = lines.index("According to")
    assert lines[at + 1].startswith('- link "the report"')
    assert lines[at + 2] == ", prices rose again."
    # The label's text names the field; it is not repeated as a line of its own.
    assert "Your city" not in lines


async def test_scrolling_brings_the_rest_of_a_long_page_into_the_outline(
    page: Page, site: SiteServer
) -> None:
    await page.goto(site.url("outline/index.html"))
    elements = ElementActions(page)
    top = await elements.state()
    assert "Upcoming events" in top.outline
    await page.evaluate("document.getElementById('bottom').scrollIntoView()")
    lower = await elements.state()
    assert "Upcoming events" not in lower.outline  # wholly above the view: left out, and said so
    assert "scroll up" in lower.as_text()
    assert "The end of the page" in lower.outline
    assert re.search(r'- link "Last link" \[ref=e\d+\]', lower.outline)


async def test_a_ref_stays_with_its_element_and_is_never_given_to_another(
    page: Page, site: SiteServer
) -> None:
    await page.goto(site.url("shop/results.html?q=x"))
    elements = ElementActions(page)
    first = (await elements.state()).as_text()
    mini = re.search(r'- link "Nimbus Mini" \[ref=(e\d+)\]', first)
    assert mini
    again = (await elements.state()).as_text()
    assert f'- link "Nimbus Mini" [ref={mini.group(1)}]' in again  # same element, same ref
    await page.goto(site.url("shop/results-2.html"))
    state = await elements.state()
    numbers = [int(n) for n in re.findall(r"\[ref=e(\d+)\]", state.as_text())]
    highest_before = max(int(n) for n in re.findall(r"\[ref=e(\d+)\]", first))
    assert min(numbers) > highest_before  # a new page's refs are new numbers
    with pytest.raises(ActionFailed, match="call page_state to look again"):
        await elements.click(mini.group(1))
