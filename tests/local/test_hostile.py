"""Hostile pages and bad input against the local server: the task stays readable and usable."""

from __future__ import annotations

import httpx2
import pytest

from tests.helpers import SiteServer, act, open_session, wait_for_status

# Script values that once made every later GET /task/{id} of the task answer 500.
POISON = [
    ("new Date(0)", "1970-01-01T00:00:00+00:00"),
    ("/ab+c/gi", "/ab+c/"),
    ("(() => { const a = {name: 'loop'}; a.self = a; return a })()", {"name": "loop", "self": None}),
    ("'\\u{1F680}'.slice(0, 1)", "\ufffd"),
    ("[NaN, Infinity, -0]", [None, None, 0]),
    ("new Map([[1, 2]])", {}),
]


@pytest.mark.parametrize(("script", "expected"), POISON)
def test_odd_script_values_never_poison_the_task(
    api: httpx2.Client, site: SiteServer, script: str, expected: object
) -> None:
    session = open_session(api, url=site.url("demo/index.html"))
    try:
        result = act(api, session["id"], "browser_action", "evaluate_js", {"js": script})
        assert result["code"] == 200, result
        assert result["output"]["output"] == expected
        assert api.get(f"/task/{session['id']}").status_code == 202  # still readable
        after = act(api, session["id"], "browser_action", "evaluate_js", {"js": "1 + 1"})
        assert after["output"]["output"] == 2  # and usable
    finally:
        api.delete(f"/task/{session['id']}")


def test_a_page_whose_title_is_a_regexp_does_not_poison_a_harmless_call(
    api: httpx2.Client, site: SiteServer
) -> None:
    session = open_session(api, url=site.url("demo/index.html"))
    try:
        act(
            api,
            session["id"],
            "browser_action",
            "evaluate_js",
            {"js": "Object.defineProperty(document, 'title', {get: () => /x/})"},
        )
        result = act(api, session["id"], "browser_action", "evaluate_js", {"js": "document.title"})
        assert result["code"] == 200
        assert api.get(f"/task/{session['id']}").status_code == 202
    finally:
        api.delete(f"/task/{session['id']}")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"task": null, "max_steps": ' + b"9" * 5_000 + b"}",
    ],
    ids=["deep", "huge-integer"],
)
def test_bad_json_bodies_are_4xx(api: httpx2.Client, body: bytes) -> None:
    response = api.post("/task", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


def test_a_lone_surrogate_in_a_request_is_replaced_not_a_500(api: httpx2.Client) -> None:
    body = b'{"task": "read \\ud800"}'
    response = api.post("/task", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    task_id = response.json()["r"]["id"]
    final = wait_for_status(api, task_id)
    assert final["status"] == "failed"  # the reader needs a url; the answer itself is fine
