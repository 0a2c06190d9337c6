"""Names in the page state as a person reads them, and a ref for everything a person can act on in
the window: a field inside its label, controls that are only a picture or an icon, elements made
clickable by their style, a banner past the outline's budget (real Chromium, pages on loopback)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from smooth_agents.local.agents.elements import REF_ATTRIBUTE, ElementActions
from tests.helpers import SiteServer

# The visible interactive elements whose box meets the window, and those of them without one of
# the shown refs (as bench/page_state.py counts reach in the first view).
_UNREACHED_JS = """
([attr, shown]) => {
  const given = new Set(shown);
  const all = "a[href], button, input:not([type=hidden]), select, textarea, [role=button], [role=link]";
  const inWindow = (box) => box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
    && box.top < innerHeight && box.left < innerWidth;
  const found = Array.from(document.querySelectorAll(all)).filter(
    (el) => el.checkVisibility({ visibilityProperty: true }) && inWindow(el.getBoundingClientRect()));
  return { total: found.length, unreached: found.filter((el) => !given.has(el.getAttribute(attr)))
    .map((el) => el.outerHTML.slice(0, 100)) };
}
"""


async def unreached(page: Page, outline: str) -> tuple[int, list[str]]:
    found = await page.evaluate(_UNREACHED_JS, [REF_ATTRIBUTE, re.findall(r"\[ref=(e\d+)\]", outline)])
    return found["total"], found["unreached"]


async def test_a_field_inside_its_label_is_named_by_the_label_alone(page: Page, site: SiteServer) -> None:
    await page.goto(site.url("outline/names.html"))
    outline = (await ElementActions(page).state()).outline
    assert re.search(r'- combobox "Colour" \[ref=e\d+\] value="Red" options: Red \| Blue', outline)
    assert re.search(r'- combobox "Size" \[ref=e\d+\]', outline)
    # A label holding two fields names both, and neither takes the other's options.
    assert re.search(r'- checkbox "Gift wrap" \[ref=e\d+\] unchecked', outline)
    assert re.search(r'- combobox "Gift wrap" \[ref=e\d+\] value="Paper"', outline)
    # A submit button without a value says what the browser writes on it.
    assert re.search(r'- button "Submit" \[ref=e\d+\]', outline)


async def test_controls_that_are_only_a_picture_get_names_that_tell_them_apart(
    page: Page, site: SiteServer
) -> None:
    await page.goto(site.url("outline/names.html"))
    outline = (await ElementActions(page).state()).outline
    names = re.findall(r'- (?:button|link) "([^"]*)" \[ref=e\d+\]', outline)
    pictures = names[names.index("Print this page") - 1 :]
    assert all(pictures), names
    assert len(set(pictures)) == len(pictures), pictures
    for expected in [
        "(image: zoom)",  # its picture's file name
        "Print this page",  # its picture's alt text
        "Share",  # its title
        "(icon: close menu header)",  # its classes, the most specific part first
        "(icon: cart)",  # the class of its icon
        "(icon: heart)",  # the sprite its SVG shows
        "(icon, green)",  # nothing but its colour
        "(icon, yellow)",
    ]:
        assert expected in pictures


async def test_an_element_clickable_by_its_style_gets_a_ref_and_a_click(page: Page, site: SiteServer) -> None:
    await page.goto(site.url("outline/names.html"))
    elements = ElementActions(page)
    outline = (await elements.state()).outline
    login = re.search(r'- clickable "Log In" \[ref=(e\d+)\]', outline)
    assert login
    # A clickable card is named by its first line; the rest of its text is still shown.
    assert re.search(r'- clickable "Nimbus Mini" \[ref=e\d+\]', outline)
    assert "A small umbrella for a big storm" in outline
    await elements.click(login.group(1))
    assert "The sign-in form is open." in (await elements.state()).outline


@pytest.mark.parametrize("path", ["outline/names.html", "outline/banner.html", "outline/index.html"])
async def test_every_visible_interactive_element_in_the_window_gets_a_ref(
    page: Page, site: SiteServer, path: str
) -> None:
    await page.goto(site.url(path))
    outline = (await ElementActions(page).state()).outline
    total, missed = await unreached(page, outline)
    assert total > 0
    assert missed == []


async def test_a_banner_past_the_budget_is_listed_with_what_the_window_shows(
    page: Page, site: SiteServer
) -> None:
    await page.goto(site.url("outline/banner.html"))
    state = await ElementActions(page).state()
    assert state.cut
    head, _, tail = state.outline.partition("(in the window, past the cut:)")
    assert "Read story 1" in head
    assert re.search(r'- button "Accept all cookies" \[ref=e\d+\]', tail)
    assert re.search(r'- button "Cookie settings" \[ref=e\d+\]', tail)
    assert len(state.outline) <= 8_000  # in the budget: the outline's last lines made room


async def test_past_the_cut_what_a_person_can_press_comes_before_what_lies_under_it(
    page: Page, site: SiteServer
) -> None:
    # Sixty footer links in the window, all under a consent dialog appended after them: the
    # dialog's buttons are what a person can press, and they are listed however many lie under.
    await page.goto(site.url("outline/covered.html"))
    state = await ElementActions(page).state()
    assert state.cut
    _, _, tail = state.outline.partition("(in the window, past the cut:)")
    assert re.search(r'- button "Accept all cookies" \[ref=e\d+\]', tail)
    assert re.search(r'- button "Cookie settings" \[ref=e\d+\]', tail)
    assert tail.index("Accept all cookies") < tail.index("Site 1")
