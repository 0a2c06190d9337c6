"""Sessions over loopback HTTP: real browser actions in a real Chromium."""

from __future__ import annotations

import httpx2

from smooth_agents.local import ThreadedServer
from tests.helpers import SiteServer, act, open_session, wait_for_status


def test_session_goto_evaluate_extract_close(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api)
    assert session["status"] == "running"
    assert session["live_url"].startswith("http://127.0.0.1:")
    task_id = session["id"]

    goto = act(api, task_id, "browser_action", "goto", {"url": site.url("demo/product.html")})
    assert goto["code"] == 200
    assert goto["output"]["output"]["url"] == site.url("demo/product.html")
    assert goto["output"]["credits_used"] == 0
    assert goto["output"]["duration"] >= 0

    title = act(api, task_id, "browser_action", "evaluate_js", {"js": "document.title"})
    assert title == {
        "code": 200,
        "output": {
            "output": "Nimbus 14 Pro Laptop | Demo Store",
            "credits_used": 0,
            "duration": title["output"]["duration"],
        },
    }

    counted = act(
        api,
        task_id,
        "browser_action",
        "evaluate_js",
        {"js": "(args) => document.querySelectorAll(args.selector).length", "args": {"selector": "h1"}},
    )
    assert counted["output"]["output"] == 1

    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["name", "price"],
    }
    extracted = act(api, task_id, "browser_action", "extract", {"schema": schema, "prompt": "the product"})
    assert extracted["code"] == 200, extracted
    assert extracted["output"]["output"]["name"].startswith("Nimbus 14 Pro")
    assert isinstance(extracted["output"]["output"]["price"], float | int)

    closed = act(api, task_id, "session_action", "close")
    assert closed["code"] == 200
    assert closed["output"]["output"] is True
    final = wait_for_status(api, task_id)
    assert final["status"] == "done"


def test_session_start_url_is_loaded_before_the_first_action(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api, url=site.url("demo/table.html"))
    result = act(api, session["id"], "browser_action", "evaluate_js", {"js": "location.pathname"})
    assert result["output"]["output"] == "/demo/table.html"
    api.delete(f"/task/{session['id']}")


def test_javascript_errors_come_back_as_code_400_and_the_session_lives_on(
    api: httpx2.Client, site: SiteServer
) -> None:
    session = open_session(api, url=site.url("demo/index.html"))
    failed = act(api, session["id"], "browser_action", "evaluate_js", {"js": "throw new Error('kaboom')"})
    assert failed["code"] == 400
    assert "kaboom" in failed["output"]
    still = act(api, session["id"], "browser_action", "evaluate_js", {"js": "21 * 2"})
    assert still["output"]["output"] == 42
    api.delete(f"/task/{session['id']}")


def test_navigation_to_local_files_and_browser_pages_is_refused(api: httpx2.Client) -> None:
    session = open_session(api)
    for url in ("file:///etc/passwd", "chrome://settings", "javascript:alert(1)", "ftp://example.com/"):
        result = act(api, session["id"], "browser_action", "goto", {"url": url})
        assert result["code"] == 400, url
        assert "only http and https" in result["output"]
    # A page cannot navigate itself to a local file either.
    act(api, session["id"], "browser_action", "evaluate_js", {"js": "location.href = 'file:///etc/passwd'"})
    where = act(api, session["id"], "browser_action", "evaluate_js", {"js": "location.href"})
    assert not where["output"]["output"].startswith("file:")
    api.delete(f"/task/{session['id']}")


def test_allowed_urls_are_enforced_on_every_request(
    api: httpx2.Client, site: SiteServer, local_server: ThreadedServer
) -> None:
    other_origin = f"http://127.0.0.1:{local_server.settings.port}/demo/index.html"
    session = open_session(api, allowed_urls=[f"http://127.0.0.1:{site.port}/**"])
    task_id = session["id"]
    blocked = act(api, task_id, "browser_action", "goto", {"url": other_origin})
    assert blocked["code"] == 400
    assert "allowed_urls" in blocked["output"]

    page = site.url(f"cross_origin.html?target={other_origin}")
    assert act(api, task_id, "browser_action", "goto", {"url": page})["code"] == 200
    status = act(
        api,
        task_id,
        "browser_action",
        "evaluate_js",
        {
            "js": "new Promise(r => { const t = () => { const s = document.getElementById('status')"
            ".textContent; s === 'pending' ? setTimeout(t, 20) : r(s); }; t(); })"
        },
    )
    assert status["output"]["output"] == "blocked"
    api.delete(f"/task/{task_id}")


def test_device_viewports(api: httpx2.Client, site: SiteServer) -> None:
    expected = {"desktop": (1280, False), "desktop-lg": (1920, False), "mobile": (412, True)}
    for device, (width, touch) in expected.items():
        session = open_session(api, device=device, url=site.url("demo/index.html"))
        assert session["device"] == device
        seen = act(
            api,
            session["id"],
            "browser_action",
            "evaluate_js",
            {"js": "({width: screen.width, touch: navigator.maxTouchPoints > 0})"},
        )["output"]["output"]
        assert seen == {"width": width, "touch": touch}, device
        api.delete(f"/task/{session['id']}")


def test_profiles_keep_cookies_and_storage_across_sessions(api: httpx2.Client, site: SiteServer) -> None:
    profile = api.post("/profile", json={"id": "visitor-1"}).json()["r"]["id"]
    page = site.url("cookies.html")

    def visit(**fields: object) -> int:
        session = open_session(api, profile_id=profile, url=page, **fields)
        visits = act(
            api, session["id"], "browser_action", "evaluate_js", {"js": "localStorage.getItem('visits')"}
        )
        act(api, session["id"], "session_action", "close")
        wait_for_status(api, session["id"])
        return int(visits["output"]["output"])

    assert visit() == 1
    assert visit() == 2
    # Read-only: the visit happens but is not saved.
    assert visit(profile_read_only=True) == 3
    assert visit() == 3
    api.delete("/profile/visitor-1")


def test_run_task_in_a_session_uses_the_reader_on_the_current_page(
    api: httpx2.Client, site: SiteServer
) -> None:
    session = open_session(api, url=site.url("demo/article.html"))
    result = act(api, session["id"], "session_action", "run_task", {"task": "summarise this article"})
    assert result["code"] == 200, result
    markdown = result["output"]["output"]
    assert markdown.startswith("# ")
    api.delete(f"/task/{session['id']}")


def test_live_view_shows_the_session(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api, url=site.url("demo/product.html"))
    live_url = session["live_url"]
    with httpx2.Client(timeout=30) as browser_user:
        page = browser_user.get(live_url)
        assert page.status_code == 200
        assert "frame.jpg" in page.text
        frame_url = live_url.replace("?token=", "/frame.jpg?token=")
        frame = browser_user.get(frame_url)
        assert frame.status_code == 200
        assert frame.headers["content-type"] == "image/jpeg"
        assert frame.content[:2] == b"\xff\xd8"
        wrong = browser_user.get(live_url.split("?")[0] + "?token=nope")
        assert wrong.status_code == 404
    api.delete(f"/task/{session['id']}")


def test_the_live_view_assets_are_served_and_nothing_else(local_server: ThreadedServer) -> None:
    # The page's style and script are public (no token); the server's own files beside them are not.
    base = local_server.base_url.removesuffix("/api/") + "/live/assets/"
    with httpx2.Client(timeout=30) as browser_user:
        for asset in ("view.js", "view.css"):
            assert browser_user.get(base + asset).status_code == 200, asset
        for code in ("view.py", "websocket.py", "__init__.py", "../view.py"):
            assert browser_user.get(base + code).status_code == 404, code


def test_the_live_view_names_the_actions_a_client_sent(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api)
    task_id = session["id"]
    product = site.url("demo/product.html")
    act(api, task_id, "browser_action", "goto", {"url": product})
    act(api, task_id, "browser_action", "evaluate_js", {"js": "document.title"})
    act(api, task_id, "browser_action", "evaluate_js", {"js": "throw new Error('boom')"})
    act(api, task_id, "browser_action", "extract", {"schema": {"type": "object", "properties": {}}})
    act(api, task_id, "session_action", "run_task", {"task": "read the page"})
    # What the live view's page shows, as its script fetches it.
    state_url = session["live_url"].replace("?token=", "/state?token=")
    with httpx2.Client(timeout=30) as browser_user:
        state = browser_user.get(state_url).json()
    steps = state["steps"]
    assert [s["name"] for s in steps] == ["goto", "evaluate_js", "evaluate_js", "extract", "run_task"]
    assert steps[0]["target"] == product
    assert steps[0]["outcome"] == "done"
    assert "boom" in steps[2]["outcome"]
    assert steps[4]["target"] == "read the page"
    api.delete(f"/task/{task_id}")


def test_extract_from_each_fixture_page_in_the_browser(api: httpx2.Client, site: SiteServer) -> None:
    listing_schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "price": {"type": "number"},
                "url": {"type": "string"},
            },
            "required": ["name", "price"],
        },
    }
    table_schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
            "required": ["city", "population"],
        },
    }
    session = open_session(api)
    task_id = session["id"]
    act(api, task_id, "browser_action", "goto", {"url": site.url("demo/listing.html")})
    cards = act(api, task_id, "browser_action", "extract", {"schema": listing_schema})["output"]["output"]
    assert len(cards) == 8
    assert cards[0]["name"] == "Nimbus 14 Pro Laptop"
    # Links are made absolute against the page the browser is on.
    assert cards[0]["url"] == site.url("product/nimbus-14-pro")

    act(api, task_id, "browser_action", "goto", {"url": site.url("demo/table.html")})
    rows = act(api, task_id, "browser_action", "extract", {"schema": table_schema})["output"]["output"]
    assert {"city": "Oslo", "population": 709037} in rows
    assert len(rows) == 10

    nothing = act(
        api,
        task_id,
        "browser_action",
        "extract",
        {"schema": {"type": "object", "properties": {"isbn": {"type": "string"}}, "required": ["isbn"]}},
    )
    assert nothing["code"] == 400
    assert "isbn" in nothing["output"]
    api.delete(f"/task/{task_id}")


def test_non_finite_numbers_come_back_as_null(api: httpx2.Client) -> None:
    session = open_session(api)
    result = act(
        api,
        session["id"],
        "browser_action",
        "evaluate_js",
        {"js": "({a: NaN, b: [Infinity, 1], c: -Infinity})"},
    )
    assert result["output"]["output"] == {"a": None, "b": [None, 1], "c": None}
    api.delete(f"/task/{session['id']}")
