"""One-shot tasks: the built-in reader, the scripted agent, custom tool round trips, cancel."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import pytest

from tests.helpers import FILES_CHOSEN_JS, SiteServer, act, open_session, wait_for_status


def submit(api: httpx2.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/task", json=fields)
    assert response.status_code == 200, response.text
    body = dict(response.json()["r"])
    assert body["status"] in ("waiting", "running")
    return body


def script(*steps: dict[str, Any]) -> str:
    return "script:" + json.dumps(list(steps))


def test_reader_returns_the_page_as_markdown(api: httpx2.Client, site: SiteServer) -> None:
    task = submit(api, task="Read the article", url=site.url("demo/article.html"))
    pending = api.get(f"/task/{task['id']}")
    assert pending.status_code in (200, 202)
    done = wait_for_status(api, task["id"])
    assert done["status"] == "done", done
    assert done["output"].startswith("# ")
    assert len(done["output"]) > 200


def test_a_page_that_never_finishes_loading_is_still_read(api: httpx2.Client, site: SiteServer) -> None:
    # Its image never arrives, so it never fires ``load``: it is read once its document is there
    # and a short settle is over (before, the task failed at the action timeout).
    task = submit(api, task="Read the page", url=site.url("never-loads"))
    done = wait_for_status(api, task["id"])
    assert done["status"] == "done", done
    assert "The text of this page is here long before its image arrives" in done["output"]


def test_requests_in_flight_when_a_task_ends_leave_the_next_tasks_alone(
    api: httpx2.Client, site: SiteServer
) -> None:
    # Under allowed_urls every request is answered by the server's guard; this page keeps
    # requests in flight, so some are between fetched and answered when the task ends and its
    # browser closes. Answering them then failed inside the route handler, and Playwright raised
    # that error in the next task's browser start ("Could not start the browser: Route.fulfill:
    # Fetch response has been disposed").
    allowed = [site.url("**")]
    # Not recorded: a page this busy keeps a video encoder on a core of its own, which is not
    # what this test is about (bench/recording.py measures that).
    quiet = {"allowed_urls": allowed, "enable_recording": False}
    for _ in range(3):
        first = submit(api, task="Read the page", url=site.url("busy"), **quiet)
        assert wait_for_status(api, first["id"])["status"] == "done"
        after = submit(api, task="Read the page", url=site.url("demo/article.html"), **quiet)
        done = wait_for_status(api, after["id"])
        assert done["status"] == "done", done


@pytest.mark.parametrize("allowed", [False, True], ids=["any-url", "allowed-urls"])
def test_a_page_that_moves_on_to_an_address_that_fails(
    api: httpx2.Client, site: SiteServer, allowed: bool
) -> None:
    # Its document arrives, then its script switches it to https, which this server does not
    # answer. A session's goto says so (it once failed "Cannot show 'chrome-error://...': it
    # matches none of allowed_urls", even with no allowed_urls given); the reader reads the
    # document as it was sent (a real site seen on the article benchmark does this offline).
    policy: dict[str, Any] = {"allowed_urls": [site.url("**")]} if allowed else {}
    session = open_session(api, **policy)
    went = act(api, session["id"], "browser_action", "goto", {"url": site.url("moves-on")})
    assert went["code"] == 400
    assert "moved on by itself to an address that did not load" in went["output"]
    assert "allowed_urls" not in went["output"]
    api.delete(f"/task/{session['id']}")
    done = wait_for_status(api, submit(api, task="Read the page", url=site.url("moves-on"), **policy)["id"])
    assert done["status"] == "done", done
    assert "this sentence was sent before the page left" in done["output"]
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    task = submit(api, task="Get the title", url=site.url("moves-on"), response_model=schema, **policy)
    extracted = wait_for_status(api, task["id"])
    assert extracted["status"] == "done", extracted
    assert extracted["output"] == {"title": "Moving on"}


def test_a_page_whose_script_replaces_its_article_is_read_as_sent(
    api: httpx2.Client, site: SiteServer
) -> None:
    # Scripts that fail offline put up an error notice where the article was (two msn.com pages
    # of the article benchmark): what the page shows is that notice; the server sent the article.
    done = wait_for_status(api, submit(api, task="Read the page", url=site.url("rewrites-itself"))["id"])
    assert done["status"] == "done", done
    assert done["output"].count("The harbour ferry will run every twenty minutes") == 20
    assert "not available right now" not in done["output"]


def test_reader_extracts_json_for_a_response_model(api: httpx2.Client, site: SiteServer) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["name", "price"],
    }
    task = submit(api, task="Get the product", url=site.url("demo/product.html"), response_model=schema)
    done = wait_for_status(api, task["id"])
    assert done["status"] == "done", done
    assert done["output"]["name"].startswith("Nimbus 14 Pro")
    assert done["output"]["price"] > 0


def test_reader_without_url_fails_with_the_options(api: httpx2.Client) -> None:
    task = submit(api, task="Find the cheapest flight to Lisbon")
    done = wait_for_status(api, task["id"])
    assert done["status"] == "failed"
    for option in ("url", "response_model", "goto", "SMOOTH_API_KEY"):
        assert option in done["output"]


def test_custom_tool_round_trip(api: httpx2.Client, site: SiteServer) -> None:
    tools = [
        {
            "name": "lookup_discount",
            "description": "Discount for a customer",
            "inputs": {"type": "object", "properties": {"customer": {"type": "string"}}},
            "output": "a percentage",
        }
    ]
    steps = script(
        {"action": "goto", "url": site.url("demo/product.html")},
        {"action": "tool", "name": "lookup_discount", "input": {"customer": "ada"}},
        {"action": "return", "from": "last"},
    )
    task = submit(api, task=steps, custom_tools=tools)
    deadline = time.monotonic() + 20
    call: dict[str, Any] | None = None
    while call is None and time.monotonic() < deadline:
        events = api.get(f"/task/{task['id']}", params={"event_t": 0}).json()["r"]["events"]
        call = next((e for e in events if e["name"] == "tool_call"), None)
        time.sleep(0.01)
    assert call is not None
    assert call["payload"] == {"name": "lookup_discount", "input": {"customer": "ada"}}
    assert isinstance(call["timestamp"], int)
    assert call["timestamp"] > 1_600_000_000_000  # milliseconds

    answer = {"name": "tool_call", "id": call["id"], "payload": {"code": 200, "output": "15%"}}
    assert api.post(f"/task/{task['id']}/event", json=answer).json() == {"r": {"id": call["id"]}}
    # A repeated answer (a retried POST) is acknowledged; the first answer stands.
    again = {**answer, "payload": {"code": 200, "output": "99%"}}
    assert api.post(f"/task/{task['id']}/event", json=again).json() == {"r": {"id": call["id"]}}
    done = wait_for_status(api, task["id"])
    assert done == {**done, "status": "done", "output": "15%"}


def _answer_first_tool_call(api: httpx2.Client, task_id: str, code: int, output: Any) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = api.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]["events"]
        call = next((e for e in events if e["name"] == "tool_call"), None)
        if call:
            api.post(
                f"/task/{task_id}/event",
                json={"name": "tool_call", "id": call["id"], "payload": {"code": code, "output": output}},
            ).raise_for_status()
            return
        time.sleep(0.01)
    raise AssertionError("no tool call")


TOOL = [{"name": "t", "description": "d", "inputs": {"type": "object"}, "output": "o"}]


def test_tool_error_400_lets_the_agent_continue(api: httpx2.Client) -> None:
    steps = script(
        {"action": "tool", "name": "t", "input": {}, "on_error": "continue"},
        {"action": "return", "from": "all"},
    )
    task = submit(api, task=steps, custom_tools=TOOL)
    _answer_first_tool_call(api, task["id"], 400, "no such customer")
    done = wait_for_status(api, task["id"])
    assert done["status"] == "done"
    assert "no such customer" in done["output"][0]["error"]


def test_essential_tool_failure_500_ends_the_task(api: httpx2.Client) -> None:
    steps = script({"action": "tool", "name": "t", "input": {}, "on_error": "continue"})
    task = submit(api, task=steps, custom_tools=TOOL)
    _answer_first_tool_call(api, task["id"], 500, "database down")
    done = wait_for_status(api, task["id"])
    assert done["status"] == "failed"
    assert "database down" in done["output"]


def test_max_steps_ends_the_task(api: httpx2.Client) -> None:
    steps = script(*[{"action": "evaluate_js", "js": "1"} for _ in range(5)])
    done = wait_for_status(api, submit(api, task=steps, max_steps=3)["id"])
    assert done["status"] == "failed"
    assert "max_steps" in done["output"]


def test_cancel_a_running_task(api: httpx2.Client) -> None:
    task = submit(api, task=script({"action": "sleep", "seconds": 30}))
    assert api.delete(f"/task/{task['id']}").json() == {"r": True}
    done = wait_for_status(api, task["id"], timeout=5)
    assert done["status"] == "cancelled"
    again = api.delete(f"/task/{task['id']}")
    assert again.status_code == 404
    assert "already" in again.json()["detail"]


def test_uploaded_files_are_usable_by_tasks(api: httpx2.Client, site: SiteServer) -> None:
    uploaded = api.post("/file", files={"file": ("notes.txt", b"hello from disk", "text/plain")})
    file_id = uploaded.json()["r"]["id"]
    steps = script(
        {"action": "goto", "url": site.url("upload.html")},
        {"action": "attach_files", "selector": "#doc"},
        {"action": "evaluate_js", "js": FILES_CHOSEN_JS},
    )
    done = wait_for_status(api, submit(api, task=steps, files=[file_id])["id"])
    assert done["status"] == "done", done
    assert done["output"] == "notes.txt:hello from disk"


def test_events_are_filtered_by_event_t(api: httpx2.Client) -> None:
    steps = script(
        {"action": "tool", "name": "t", "input": {"n": 1}},
        {"action": "tool", "name": "t", "input": {"n": 2}},
    )
    task = submit(api, task=steps, custom_tools=TOOL)
    _answer_first_tool_call(api, task["id"], 200, "one")
    deadline = time.monotonic() + 10
    events: list[dict[str, Any]] = []
    while len(events) < 2 and time.monotonic() < deadline:
        events = api.get(f"/task/{task['id']}", params={"event_t": 0}).json()["r"]["events"]
    assert len(events) == 2
    first, second = events
    assert second["timestamp"] > first["timestamp"]
    later = api.get(f"/task/{task['id']}", params={"event_t": first["timestamp"]}).json()["r"]["events"]
    assert [e["id"] for e in later] == [second["id"]]
    api.post(
        f"/task/{task['id']}/event",
        json={"name": "tool_call", "id": second["id"], "payload": {"code": 200, "output": "two"}},
    )
    assert wait_for_status(api, task["id"])["output"] == "two"
