"""Every route of the Smooth API and its documented status codes, over loopback HTTP."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx2
import pytest

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, act, open_session, wait_until


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_every_success_is_enveloped_and_every_error_has_detail(api: httpx2.Client) -> None:
    assert set(api.get("/task").json()) == {"r"}
    missing = api.get("/task/task_does_not_exist")
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
    assert "task_does_not_exist" in missing.json()["detail"]


def test_api_key_is_required(local_server: ThreadedServer) -> None:
    with httpx2.Client(base_url=local_server.api_url) as anonymous:
        assert anonymous.get("/task").status_code == 401
        wrong = anonymous.get("/task", headers={"apikey": "sk-wrong"})
        assert wrong.status_code == 401
        assert "sk-wrong" not in wrong.text
        assert API_KEY not in wrong.text


@pytest.mark.parametrize(
    ("host", "accepted"),
    [
        ("evil.example.com", False),
        ("[::1]evil.com", False),
        ("127.0.0.1:evil", False),
        ("127.0.0.1:80@evil.com", False),
        ("127.0.0.1.evil.com", False),
        ("localhost:", False),
        ("", False),
        ("127.0.0.1", True),
        ("127.0.0.1:8321", True),
        ("[::1]:8321", True),
        ("LOCALHOST", True),
    ],
)
def test_host_headers(local_server: ThreadedServer, host: str, accepted: bool) -> None:
    assert local_server.settings.accepts_host(host) is accepted


def test_foreign_host_header_is_refused(local_server: ThreadedServer) -> None:
    with httpx2.Client(base_url=local_server.api_url, headers={"apikey": API_KEY}) as client:
        refused = client.get("/task", headers={"host": "evil.example.com"})
        assert refused.status_code == 421
        assert (
            client.get("/task", headers={"host": f"localhost:{local_server.settings.port}"}).status_code
            == 200
        )


def test_task_list_get_and_limit(api: httpx2.Client) -> None:
    ids = [open_session(api)["id"] for _ in range(2)]
    listed = api.get("/task", params={"l": 1}).json()["r"]
    assert len(listed) == 1
    everything = {t["id"] for t in api.get("/task").json()["r"]}
    assert set(ids) <= everything
    running = api.get(f"/task/{ids[0]}")
    assert running.status_code == 202
    assert running.json()["r"]["status"] == "running"
    for task_id in ids:
        assert api.delete(f"/task/{task_id}").json() == {"r": True}
    finished = api.get(f"/task/{ids[0]}")
    assert finished.status_code == 200
    assert finished.json()["r"]["status"] == "cancelled"
    assert api.get(f"/task/{ids[0]}", params={"downloads": "true"}).json()["r"]["downloads_url"] == ""


def test_delete_unknown_task_is_404(api: httpx2.Client) -> None:
    assert api.delete("/task/task_nope").status_code == 404


def test_events_on_a_closed_session_are_400(api: httpx2.Client) -> None:
    session = open_session(api)
    act(api, session["id"], "session_action", "close")
    late = api.post(
        f"/task/{session['id']}/event",
        json={"name": "browser_action", "payload": {"name": "goto", "input": {"url": "http://127.0.0.1/"}}},
    )
    assert late.status_code == 400
    assert "closed" in late.json()["detail"]
    assert (
        api.post("/task/task_nope/event", json={"name": "browser_action", "payload": {}}).status_code == 404
    )


def test_profiles_create_list_conflict_delete(api: httpx2.Client) -> None:
    created = api.post("/profile", json={"id": "contract-profile"})
    assert created.json() == {"r": {"id": "contract-profile"}}
    assert api.post("/profile", json={"id": "contract-profile"}).status_code == 409
    generated = api.post("/profile", json={}).json()["r"]["id"]
    listed = [p["id"] for p in api.get("/profile").json()["r"]]
    assert {"contract-profile", generated} <= set(listed)
    assert api.delete("/profile/contract-profile").json() == {"r": True}
    assert api.delete("/profile/contract-profile").status_code == 404
    assert api.post("/profile", json={"id": "../escape"}).status_code == 400
    api.delete(f"/profile/{generated}")


def test_files_upload_and_delete(api: httpx2.Client) -> None:
    uploaded = api.post("/file", files={"file": ("a.csv", b"x,y\n1,2\n")}, data={"file_purpose": "numbers"})
    file_id = uploaded.json()["r"]["id"]
    assert api.delete(f"/file/{file_id}").json() == {"r": True}
    assert api.delete(f"/file/{file_id}").status_code == 404
    too_long = api.post("/file", files={"file": ("a.txt", b"x")}, data={"file_purpose": "p" * 65})
    assert too_long.status_code == 400
    assert "64" in too_long.json()["detail"]
    assert api.post("/file", json={"file": "not multipart"}).status_code == 400
    assert api.post("/file", files={"other": ("a.txt", b"x")}).status_code == 400
    unknown = api.post("/task", json={"task": None, "files": ["file_missing"]})
    assert unknown.status_code == 400
    assert "file_missing" in unknown.json()["detail"]


def test_extensions_upload_list_and_both_delete_routes(api: httpx2.Client) -> None:
    archive = _zip({"manifest.json": '{"manifest_version": 3, "name": "x", "version": "1"}'})
    first = api.post("/extension", files={"file": ("ext.zip", archive)}).json()["r"]["id"]
    second = api.post("/extension", files={"file": ("ext2.zip", archive)}).json()["r"]["id"]
    listed = {e["id"]: e for e in api.get("/extension").json()["r"]}
    assert listed[first]["file_name"] == "ext.zip"
    assert isinstance(listed[first]["creation_time"], int)
    assert api.delete(f"/browser/extension/{first}").json() == {"r": True}
    assert api.delete(f"/extension/{second}").json() == {"r": True}
    assert api.delete(f"/extension/{second}").status_code == 404
    assert api.post("/extension", files={"file": ("x.zip", b"not a zip")}).status_code == 400
    no_manifest = api.post("/extension", files={"file": ("x.zip", _zip({"a.txt": "x"}))})
    assert no_manifest.status_code == 400
    assert "manifest.json" in no_manifest.json()["detail"]


def test_deprecated_browser_session_route(api: httpx2.Client, site: SiteServer) -> None:
    opened = api.post("/browser/session", json={"url": site.url("demo/index.html")}).json()["r"]
    assert opened["profile_id"]
    assert opened["live_url"].startswith("http://127.0.0.1:")
    assert api.get(f"/task/{opened['live_id']}").json()["r"]["status"] == "running"
    assert api.delete(f"/browser/session/{opened['live_id']}").json() == {"r": True}
    assert api.get(f"/task/{opened['live_id']}").json()["r"]["status"] == "cancelled"
    assert opened["profile_id"] in [p["id"] for p in api.get("/profile").json()["r"]]


def test_premium_features_the_local_server_lacks_are_403(api: httpx2.Client) -> None:
    for fields in ({"certificates": [{"file": "AAAA"}]}, {"extensions": ["ext_x"]}, {"proxy_server": "self"}):
        refused = api.post("/task", json={"task": None, **fields})
        assert refused.status_code == 403, fields
        assert "local server" in refused.json()["detail"]


BAD_TASK_BODIES: list[tuple[Any, int, str]] = [
    ({"task": 42}, 422, "task"),
    ({"task": None, "max_steps": 1}, 422, "max_steps"),
    ({"task": None, "device": "tablet"}, 422, "device"),
    ({"task": None, "metadata": {f"k{i}": i for i in range(17)}}, 422, "metadata"),
    ({"task": "x", "response_model": {"type": "not-a-type"}}, 422, "response_model"),
    ({"task": "x", "response_model": "not an object"}, 422, "response_model"),
    ({"task": None, "url": "file:///etc/passwd"}, 400, "only http and https"),
    ({"task": None, "profile_id": "never-created"}, 400, "never-created"),
    (
        {"task": None, "allowed_urls": ["https://a.example/**"], "url": "https://b.example/"},
        400,
        "allowed_urls",
    ),
    ([1, 2, 3], 422, ""),
]


@pytest.mark.parametrize(("body", "status", "mentions"), BAD_TASK_BODIES)
def test_bad_task_bodies(api: httpx2.Client, body: Any, status: int, mentions: str) -> None:
    response = api.post("/task", json=body)
    assert response.status_code == status, response.text
    assert mentions in str(response.json()["detail"])


def test_malformed_json_is_400_and_the_server_keeps_serving(api: httpx2.Client) -> None:
    broken = api.post("/task", content=b'{"task": ', headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert "JSON" in broken.json()["detail"]
    assert api.post("/task", content=b"").status_code == 400
    assert api.get("/task").status_code == 200


BAD_EVENTS: list[tuple[dict[str, Any], int, str]] = [
    ({"name": "dance", "payload": {}}, 400, "Unknown event name"),
    ({"name": "browser_action", "payload": {"name": "teleport"}}, 400, "teleport"),
    ({"name": "session_action", "payload": {"name": "goto"}}, 400, "goto"),
    ({"name": "browser_action", "payload": {"name": "goto", "input": {}}}, 422, "url"),
    ({"name": "browser_action", "payload": {"name": "goto", "input": {"url": 5}}}, 422, "url"),
    ({"name": "browser_action", "payload": {"name": "evaluate_js", "input": {"code": "1"}}}, 422, "js"),
    (
        {"name": "browser_action", "payload": {"name": "extract", "input": {"schema": {"type": 7}}}},
        400,
        "schema",
    ),
    ({"name": "browser_action", "payload": "not an object"}, 422, "payload"),
    ({"name": "tool_call", "id": "evt_unknown", "payload": {"code": 200, "output": 1}}, 400, "evt_unknown"),
    ({"name": "tool_call", "id": "evt_unknown", "payload": {"code": "two hundred"}}, 422, "code"),
]


@pytest.mark.parametrize(("event", "status", "mentions"), BAD_EVENTS)
def test_bad_events_are_refused_and_the_session_keeps_serving(
    api: httpx2.Client, event: dict[str, Any], status: int, mentions: str
) -> None:
    session = open_session(api)
    response = api.post(f"/task/{session['id']}/event", json=event)
    assert response.status_code == status, response.text
    assert mentions in str(response.json()["detail"])
    alive = act(api, session["id"], "browser_action", "evaluate_js", {"js": "'still here'"})
    assert alive["output"]["output"] == "still here"
    api.delete(f"/task/{session['id']}")


def test_blocked_navigation_is_an_action_error(api: httpx2.Client) -> None:
    session = open_session(api, allowed_urls=["https://only.example/**"])
    result = act(api, session["id"], "browser_action", "goto", {"url": "https://elsewhere.example/"})
    assert result["code"] == 400
    assert "allowed_urls" in result["output"]
    api.delete(f"/task/{session['id']}")


def test_long_poll_returns_as_soon_as_the_result_is_ready(api: httpx2.Client) -> None:
    import time

    session = open_session(api)
    task_id = session["id"]
    idle = api.get(f"/task/{task_id}", params={"event_t": 0, "wait_ms": 300})
    assert idle.headers["x-smooth-long-poll-max-ms"] == "20000"
    assert idle.json()["r"]["events"] == []
    js = "new Promise(r => setTimeout(() => r('late'), 400))"
    started = time.perf_counter()  # before the action: its 400 ms may begin before the POST answers
    sent = api.post(
        f"/task/{task_id}/event",
        json={"name": "browser_action", "payload": {"name": "evaluate_js", "input": {"js": js}}},
    )
    answer = api.get(f"/task/{task_id}", params={"event_t": 0, "wait_ms": 10_000})
    waited = time.perf_counter() - started
    assert [e["id"] for e in answer.json()["r"]["events"]] == [sent.json()["r"]["id"]]
    assert 0.3 < waited < 5
    api.delete(f"/task/{task_id}")


def test_a_retried_action_post_runs_the_action_once(api: httpx2.Client) -> None:
    session = open_session(api)
    task_id = session["id"]
    event = {
        "id": "evt-retried-1",
        "name": "browser_action",
        "payload": {"name": "evaluate_js", "input": {"js": "window.n = (window.n || 0) + 1"}},
    }
    for _ in range(3):
        assert api.post(f"/task/{task_id}/event", json=event).json() == {"r": {"id": "evt-retried-1"}}
    counted = act(api, task_id, "browser_action", "evaluate_js", {"js": "window.n"})
    assert counted["output"]["output"] == 1
    api.delete(f"/task/{task_id}")


def test_listing_tasks_does_not_end_a_graceful_close_early(
    api: httpx2.Client, local_server: ThreadedServer
) -> None:
    session = open_session(api, enable_recording=False)  # its close is quick: no video to save
    task_id = session["id"]
    sent = api.post(f"/task/{task_id}/event", json={"name": "session_action", "payload": {"name": "close"}})
    event_id = sent.json()["r"]["id"]
    import time

    # The close has run once its result is among the task's events (read in the server, which
    # delivers nothing); that result then waits for the session's own poll.
    task = local_server.runtime.get(task_id)
    wait_until(lambda: any(e.id == event_id for e in task.events), 30, "the close's result")
    api.get("/task")  # a list carries no events: it must not count as delivery
    assert api.get(f"/task/{task_id}", params={"event_t": 10**15}).json()["r"]["status"] == "running"
    body = api.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]
    assert [e["id"] for e in body["events"]] == [event_id]
    deadline = time.monotonic() + 10
    while api.get(f"/task/{task_id}").json()["r"]["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
