"""The model agent's hover, switch_tab and evaluate_js, on real pages in a real Chromium: a menu
whose items show only while the mouse is over it, and a link that opens a second tab."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, last_state, last_tool_text, ref_of, text_of

DATASHEET_TITLE = "TMP-9 datasheet | Parts Depot"


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    model: ScriptedChatModel = request.param
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        yield server


def datasheet_tab(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """switch_tab to the tab the page state lists with the datasheet's title."""
    found = re.search(r"Other tabs \(switch_tab\):.*?(\d+): TMP-9 datasheet", last_state(messages))
    assert found, f"no datasheet tab in the page state:\n{last_state(messages)}"
    return {"index": int(found.group(1))}


BROWSING = ScriptedChatModel(
    steps=[
        call_with("hover", lambda m: {"ref": ref_of(m, "button", "Products")}),
        # The item is on the page only while the mouse is over the menu: its ref is in the
        # hover's answer.
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Sensor catalogue")}),
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Open the TMP-9 datasheet")}),
        call_with("switch_tab", datasheet_tab),
        call("evaluate_js", js="document.title"),
        call_with("finish", lambda m: {"answer_json": json.loads(last_tool_text(m, "evaluate_js"))}),
    ]
)


@pytest.mark.parametrize("served", [BROWSING], indirect=True)
async def test_hover_a_menu_follow_a_new_tab_and_read_it_with_javascript(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run(
            "Open the TMP-9 datasheet from the Products menu and tell me its title",
            url=site.url("browsing/menu.html"),
        )
        result = await handle.result(timeout=60)
    assert result.output == DATASHEET_TITLE
    seen = BROWSING.seen
    assert len(seen) == 6  # one model call per action, and the finish

    # Before the hover the menu's items are hidden, so the page state has none of them.
    opening = text_of(seen[0][-1])
    assert 'button "Products"' in opening
    assert "Sensor catalogue" not in opening
    assert 'link "Sensor catalogue"' in last_tool_text(seen[1], "hover")

    # The target=_blank link opened a second tab; the actions still see the first, which the
    # state says, listing the other tab by index, title and address.
    after_click = last_tool_text(seen[3], "click")
    assert f"URL: {site.url('browsing/catalogue.html')}" in after_click
    assert (
        f"Other tabs (switch_tab): 1: {DATASHEET_TITLE} - {site.url('browsing/datasheet.html')}"
        in after_click
    )

    # After switch_tab the page is the datasheet, and the first tab is the other one.
    switched = last_tool_text(seen[4], "switch_tab")
    assert f"URL: {site.url('browsing/datasheet.html')}" in switched
    assert "# TMP-9 datasheet" in switched
    assert f"0: Sensor catalogue | Parts Depot - {site.url('browsing/catalogue.html')}" in switched
    # evaluate_js ran in the tab switched to, and answered its value as JSON.
    assert last_tool_text(seen[5], "evaluate_js") == json.dumps(DATASHEET_TITLE)

    steps = [e.payload for e in served.runtime.tasks[handle.id].events if e.name == "browser_action"]
    assert [s["name"] for s in steps] == ["hover", "click", "click", "switch_tab", "evaluate_js"]
    assert steps[2]["url"] == site.url("browsing/catalogue.html")
    assert steps[3]["input"] == {"index": 1}
    assert steps[3]["url"] == site.url("browsing/datasheet.html")
    assert steps[4]["input"] == {"js": "document.title"}
