"""The model agent's flows through smooth-py, the official Smooth SDK (a client none of us wrote),
in its blocking form, ``SmoothClient``, as its documentation uses it: a scripted chat model reads
the real pages behind the local server and acts on them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from pydantic import BaseModel
from smooth import SmoothClient

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, LoginSite, SiteServer, make_settings
from tests.langchain.scripting import (
    call,
    call_with,
    everything_shown,
    last_state,
    last_tool_text,
    price_from_page,
    ref_of,
    shopping,
    text_of,
)

# smooth-py 0.4.5 serialises its own deprecated ``session_id`` field on every task it submits.
pytestmark = pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")


class Product(BaseModel):
    name: str
    price: float


@contextlib.contextmanager
def serving(tmp_path: Path, model: ScriptedChatModel) -> Iterator[ThreadedServer]:
    with ThreadedServer(make_settings(tmp_path, model=model)) as server:
        yield server


@contextlib.contextmanager
def official_client(server: ThreadedServer) -> Iterator[SmoothClient]:
    """smooth-py's blocking client on the local server. It runs an event loop on a thread of its
    own that it never closes (only stops, when collected): closed here, once its own exit has
    closed its HTTP session, so that no loop, task or socket outlives the test."""
    client = SmoothClient(api_key=API_KEY, base_url=server.base_url)
    try:
        with client:
            yield client
    finally:

        async def settle() -> None:
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await asyncio.get_running_loop().shutdown_default_executor()

        loop = client._loop
        asyncio.run_coroutine_threadsafe(settle(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        client._loop_thread.join(30)
        loop.close()


def test_search_results_next_page_detail_and_a_structured_answer(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(steps=shopping())
    with serving(tmp_path, model) as server, official_client(server) as client:
        handle = client.run(
            task="Find the price of the Nimbus Ultra",
            url=site.url("shop/index.html"),
            response_model=Product,
        )
        result = handle.result(timeout=60)
        steps = [e.payload for e in server.runtime.tasks[handle.id()].events if e.name == "browser_action"]
    assert result.status == "done", result.output
    assert Product.model_validate(result.output) == Product(name="Nimbus Ultra", price=1899.0)
    assert [s["name"] for s in steps] == ["type_text", "click", "click"]
    assert steps[2]["url"] == site.url("shop/item-3.html")
    # The results page as its script wrote it, seen in the answer of the search that led there.
    assert "Results for nimbus" in last_tool_text(model.seen[1], "type_text")
    assert len(model.seen) == 4


def sku_on_page(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    found = re.search(r"SKU: (\S+)", last_state(messages))
    assert found, f"no SKU on the page:\n{last_state(messages)}"
    return {"sku": found.group(1)}


def test_a_custom_tool_called_mid_task_and_its_answer_used(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[
            # The SKU read from the page, the caller's tool asked about it, its answer in the result.
            call_with("warehouse_stock", sku_on_page),
            call_with(
                "finish",
                lambda m: {
                    "answer_json": json.dumps({"units": json.loads(last_tool_text(m, "warehouse_stock"))})
                },
            ),
        ]
    )
    asked: list[str] = []
    with serving(tmp_path, model) as server, official_client(server) as client:

        @client.tool(
            name="warehouse_stock",
            description="Units of a part in the caller's warehouse, by SKU.",
            inputs={
                "type": "object",
                "properties": {"sku": {"type": "string", "description": "The part's SKU"}},
                "required": ["sku"],
            },
            output="the number of units",
        )
        def warehouse_stock(sku: str) -> int:
            asked.append(sku)
            return 7

        handle = client.run(
            task="How many Nimbus Ultra are in stock?",
            url=site.url("shop/item-3.html"),
            response_model={
                "type": "object",
                "properties": {"units": {"type": "integer"}},
                "required": ["units"],
            },
            custom_tools=[warehouse_stock],
        )
        result = handle.result(timeout=60)
        calls = [e for e in server.runtime.tasks[handle.id()].events if e.name == "tool_call"]
    assert result.status == "done", result.output
    assert asked == ["NU-3"]  # run once, in this process, with what the page showed
    assert result.output == {"units": 7}
    # One call on the wire, the SKU the model read from the page as its input.
    assert [c.payload for c in calls] == [{"name": "warehouse_stock", "input": {"sku": "NU-3"}}]


def test_run_task_in_a_session_leaves_the_page_where_the_agent_did(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[
            call_with("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}),
            call_with("finish", price_from_page),
        ]
    )
    with serving(tmp_path, model) as server, official_client(server) as client:
        with client.session() as session:
            session.goto(site.url("shop/results-2.html"))
            done = session.run_task("Open the Nimbus Ultra and give its price", response_model=Product)
            shown = session.evaluate_js("location.pathname")
    assert Product.model_validate(done.output) == Product(name="Nimbus Ultra", price=1899.0)
    # The agent started on the session's page (its first look was results page 2) ...
    assert "Results, page 2" in text_of(model.seen[0][-1])
    # ... and left the session where it went.
    assert shown.output == "/shop/item-3.html"


def test_a_login_saved_in_a_profile_signs_in_the_next_task(tmp_path: Path, site: SiteServer) -> None:
    username = "ada"
    password, name = LoginSite.USERS[username]

    def signed_in_name(messages: Sequence[BaseMessage]) -> dict[str, Any]:
        found = re.search(r"^\s*Signed in as (.+)$", last_state(messages), re.MULTILINE)
        assert found, f"not signed in:\n{last_state(messages)}"
        return {"answer_json": found.group(1).strip()}

    model = ScriptedChatModel(
        steps=[
            # Task 1: the form.
            call_with("type_text", lambda m: {"ref": ref_of(m, "textbox", "Username"), "text": username}),
            call_with(
                "type_text",
                lambda m: {"ref": ref_of(m, "textbox", "Password"), "text": password, "submit": True},
            ),
            call_with("finish", signed_in_name),
            # Task 2: the account page, signed in from the start.
            call_with("finish", signed_in_name),
        ]
    )
    logins_before = len(site.login.logins)
    with serving(tmp_path, model) as server, official_client(server) as client:
        profile = client.create_profile()
        first = client.run(
            task=f"Sign in as {username} (password {password}); who is the account holder?",
            url=site.url("login/index.html"),
            profile_id=profile.id,
        ).result(timeout=60)
        turns_of_first = len(model.seen)
        second = client.run(
            task="Who is signed in on the account page?",
            url=site.url("login/account"),
            profile_id=profile.id,
        ).result(timeout=60)
        client.delete_profile(profile.id)
    assert (first.status, first.output) == ("done", name)
    assert (second.status, second.output) == ("done", name)
    assert len(site.login.logins) == logins_before + 1  # one login, kept by the profile
    shown_second = everything_shown(model.seen[turns_of_first:])
    assert len(model.seen) == turns_of_first + 1
    assert 'textbox "Password"' in everything_shown(model.seen[:1])
    assert 'textbox "Password"' not in shown_second
    assert f"Signed in as {name}" in shown_second


def test_the_step_limit_fails_the_task_with_the_reason(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(steps=[call("scroll") for _ in range(10)])
    with serving(tmp_path, model) as server, official_client(server) as client:
        result = client.run(task="Scroll forever", url=site.url("shop/index.html"), max_steps=2).result(
            timeout=60
        )
    assert result.status == "failed"
    assert "max_steps" in str(result.output)
