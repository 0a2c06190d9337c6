"""The state a model agent's click answers with shows what the click caused, even late: a change a
timer makes 300 ms after it, a fetch and its render; and a page that never stops changing is
answered at the cap, saying so (a scripted model, the local server, a real Chromium)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from langchain_tools.scripted import ScriptedChatModel, Step
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, last_tool_text, ref_of

# What each click answered, in order (read by the step after it).
CLICK_ANSWERS: list[str] = []


def after_reading_the_click(step: Step) -> Step:
    def read_then_step(messages: Sequence[BaseMessage]) -> AIMessage:
        CLICK_ANSWERS.append(last_tool_text(messages, "click"))
        return step(messages)

    return read_then_step


def click(button: str) -> Step:
    return call_with("click", lambda m: {"ref": ref_of(m, "button", button)})


LATE = ScriptedChatModel(
    steps=[
        click("Change after 300 ms"),
        after_reading_the_click(click("Fetch then show")),
        after_reading_the_click(click("Animate forever")),
        after_reading_the_click(call("finish", answer_json="done")),
    ]
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ThreadedServer]:
    # 2 s: room for the 300 ms timer and fetch on a loaded machine, and the cap still cuts the
    # animation.
    with ThreadedServer(make_settings(tmp_path, model=LATE, settle_cap=2.0)) as server:
        yield server


async def test_each_click_is_answered_with_the_page_after_what_it_caused(
    served: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        handle = await client.run("Press the buttons", url=site.url("settle/late.html"))
        result = await handle.result(timeout=60)
    assert result.output == "done"
    timer, fetched, forever = CLICK_ANSWERS
    assert "Changed 300 ms after the click" in timer
    assert "Fetched: slow done" in fetched
    for settled in (timer, fetched):
        assert "still changing" not in settled
    # The server's cap (2 s here) bounded the wait, and the answer says the page went on.
    assert "the page was still changing when the wait for it stopped at its 2 s cap" in forever
