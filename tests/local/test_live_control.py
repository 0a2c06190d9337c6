"""The interactive live view: a real Chromium plays the person, clicking and typing on the picture
of the session's page (never calling into that page), and the page reacts. Also: a view-only
socket refuses input, the SDK's sign-in flow with a profile, embedding, and the hand-over action."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
import websockets
from playwright.async_api import Browser, Page, async_playwright
from smooth import SmoothAsyncClient

from smooth_agents.local import ThreadedServer
from smooth_agents.local.browser.chromium import find_chromium
from smooth_agents.protocol import CANCEL_HAND_OVER, HAND_OVER, live_view_link
from tests.helpers import API_KEY, LoginSite, SiteServer, act, open_session, wait_for_event

pytestmark = pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")

USERNAME = "ada"
PASSWORD, NAME = LoginSite.USERS[USERNAME]


@pytest.fixture(scope="module")
async def person() -> AsyncIterator[Browser]:
    """The person's own browser (apart from the server's), with a window smaller than the
    session's viewport: what they point at is scaled."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(None, playwright), args=["--no-sandbox"]
        )
        yield browser
        await browser.close()


async def open_view(person: Browser, link: str) -> Page:
    """The live view in the person's browser, once its first picture shows."""
    view = await person.new_page(viewport={"width": 900, "height": 650})
    await view.goto(link)
    await view.locator("#frame[src^='blob:']").wait_for()  # a picture the socket pushed
    return view


async def run_js(api: httpx2.Client, task_id: str, js: str) -> Any:
    """A script's value in the session's page, sent over the wire as a client sends it."""
    result = await asyncio.to_thread(act, api, task_id, "browser_action", "evaluate_js", {"js": js})
    assert result["code"] == 200, result
    return result["output"]["output"]


async def point_at(view: Page, api: httpx2.Client, task_id: str, selector: str) -> tuple[float, float]:
    """Where an element of the session's page shows on the person's picture (its centre): the
    layout read over the wire, scaled to the picture as the person's window shows it."""
    return await on_picture(view, await point_on_page(api, task_id, selector))


async def on_picture(view: Page, point: dict[str, float]) -> tuple[float, float]:
    """A point of the session's viewport (as fractions of it) on the picture as it shows now."""
    box = await view.locator("#frame").bounding_box()
    assert box is not None
    return box["x"] + point["x"] * box["width"], box["y"] + point["y"] * box["height"]


async def sign_in_on_the_picture(view: Page, api: httpx2.Client, task_id: str) -> None:
    """What a person does: click the field on the picture, type; the other field; Enter."""
    await view.mouse.click(*await point_at(view, api, task_id, "#username"))
    await view.keyboard.type(USERNAME)
    await view.mouse.click(*await point_at(view, api, task_id, "#password"))
    await view.keyboard.type(PASSWORD)
    await view.keyboard.press("Enter")
    await view.locator("#url", has_text="/login/account").wait_for()


async def test_a_person_signs_in_by_clicking_and_typing_on_the_picture(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    logins_before = len(site.login.logins)
    view = await open_view(person, live_view_link(session["live_url"], interactive=True))
    watcher = await open_view(person, live_view_link(session["live_url"], interactive=False))
    try:
        assert "You are in control" in await view.locator("#control").inner_text()
        # Whoever watches the view-only link sees that a person has the page.
        await watcher.locator("#control", has_text="A person is in control").wait_for()
        await sign_in_on_the_picture(view, api, task_id)
        # The rest of what a person does: double click, a click with a modifier, a key with a
        # modifier, a character the keyboard layout lacks, a paste, the wheel.
        await run_js(api, task_id, PLAYGROUND)
        pad = await point_at(view, api, task_id, "#pad")
        await view.mouse.dblclick(*pad)
        await view.keyboard.down("Shift")
        await view.mouse.click(*pad)
        await view.keyboard.up("Shift")
        await view.mouse.click(*await point_at(view, api, task_id, "#note"))
        await view.keyboard.type("old")
        await view.keyboard.press("Control+a")  # selects it all: the next key replaces it
        await view.keyboard.type("café ")
        await view.evaluate(PASTE, "pasted text")
        await view.mouse.move(*pad)
        await view.mouse.wheel(0, 400)
        seen: dict[str, Any] = {}
        for _ in range(100):  # until the last input (the wheel) has reached the page
            seen = await run_js(api, task_id, "({log: window.log, note: note.value, y: scrollY})")
            if seen["y"] > 0:
                break
        assert seen["log"][:2] == ["dblclick", "click shift"]
        assert seen["note"] == "café pasted text"
        assert seen["y"] > 0
    finally:
        await view.close()
        await watcher.close()
    text = await run_js(api, task_id, "document.body.innerText")
    assert f"Signed in as {NAME}" in text
    assert len(site.login.logins) == logins_before + 1
    # What the person typed went to the page and nowhere else: not into the task's events.
    events = api.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]["events"]
    assert PASSWORD not in json.dumps(events)
    api.delete(f"/task/{task_id}")


@pytest.mark.parametrize("device", ["mobile", "desktop-lg"])
async def test_points_land_where_they_are_shown_on_every_device(
    api: httpx2.Client, site: SiteServer, person: Browser, device: str
) -> None:
    # A mobile page without a viewport tag is laid out wider than the phone and shown scaled down;
    # a large desktop is shown smaller in the person's window: the same click lands either way.
    session = open_session(api, url=site.url("login/index.html"), device=device)
    view = await open_view(person, live_view_link(session["live_url"]))
    try:
        await sign_in_on_the_picture(view, api, session["id"])
    finally:
        await view.close()
    api.delete(f"/task/{session['id']}")


# A pad that notes double clicks and clicks (with Shift), a field, and room to scroll.
PLAYGROUND = """
window.log = [];
document.querySelector('main').insertAdjacentHTML('beforeend',
  '<div id=pad style="width:300px;height:120px;background:#ccc"></div>' +
  '<input id=note style="font-size:20px;width:400px"><div style="height:3000px"></div>');
pad.addEventListener('dblclick', () => log.push('dblclick'));
pad.addEventListener('click', (e) => { if (e.shiftKey) log.push('click shift'); });
"""
# A person's paste in the view (what the browser fires for Ctrl+V with text on the clipboard).
PASTE = """(text) => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  document.getElementById('keys').dispatchEvent(
    new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


async def test_the_picture_follows_a_tab_the_person_opens(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    session = open_session(api, url=site.url("browsing/catalogue.html"))
    task_id = session["id"]
    view = await open_view(person, live_view_link(session["live_url"]))
    try:
        await view.mouse.click(*await point_at(view, api, task_id, "a[target=_blank]"))
        await view.locator("#url", has_text="/browsing/datasheet.html").wait_for()
        # The session moved to the tab too: the next action reads it.
        assert (await run_js(api, task_id, "location.pathname")) == "/browsing/datasheet.html"
    finally:
        await view.close()
    api.delete(f"/task/{task_id}")


async def test_the_address_follows_a_move_that_paints_nothing(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    # A click of the person's that moves the page without a new picture (history.pushState): the
    # view's address follows from the navigation itself, not from a picture that never comes.
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    quiet_move = "document.addEventListener('click', () => history.pushState({}, '', '/login/quiet'))"
    await run_js(api, task_id, quiet_move)
    view = await open_view(person, live_view_link(session["live_url"]))
    try:
        await view.mouse.click(*await point_at(view, api, task_id, "body"))
        # Nothing else is sent meanwhile: an action would publish the address on its own.
        await view.locator("#url", has_text="/login/quiet").wait_for()
        assert (await run_js(api, task_id, "location.pathname")) == "/login/quiet"
    finally:
        await view.close()
    api.delete(f"/task/{task_id}")


async def test_a_view_only_socket_refuses_input_and_says_so(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    socket_url = session["live_url"].replace("http://", "ws://").replace("?token=", "/socket?token=")
    username = await point_on_page(api, task_id, "#username")
    forged = [
        {"type": "mouse", "action": "click", **username},
        {"type": "key", "key": "a"},
        {"type": "text", "text": "typed"},
        {"type": "done"},
    ]
    for query in ("&interactive=false", ""):  # view only unless the link asks for interactive=true
        async with websockets.connect(socket_url + query) as socket:
            for message in forged:
                await socket.send(json.dumps(message))
            refusals = []
            while len(refusals) < len(forged):
                received = await asyncio.wait_for(socket.recv(), 10)
                if isinstance(received, str) and json.loads(received)["type"] == "refused":
                    refusals.append(json.loads(received)["reason"])
        assert all("view only" in reason for reason in refusals)
    # Nothing reached the page: no field was focused, nothing was typed.
    state = await run_js(
        api, task_id, "[document.activeElement.id, document.querySelector('#username').value]"
    )
    assert state == ["", ""]
    # The token is the key: a wrong one opens no socket.
    wrong = socket_url.split("?")[0] + "?token=" + secrets.token_urlsafe(18) + "&interactive=true"
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(wrong):
            pass
    # And the server's Host check holds for the socket as for every page (DNS rebinding).
    assert await handshake_status(socket_url + "&interactive=true", host="rebound.example") == 403
    assert await handshake_status(socket_url + "&interactive=true") == 101
    api.delete(f"/task/{task_id}")


async def handshake_status(socket_url: str, host: str | None = None) -> int:
    """The HTTP status a WebSocket handshake gets, sent by hand (any Host header)."""
    address = urlsplit(socket_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    request = (
        f"GET {address.path}?{address.query} HTTP/1.1\r\nHost: {host or address.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(secrets.token_bytes(16)).decode()}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1])


async def point_on_page(api: httpx2.Client, task_id: str, selector: str) -> dict[str, float]:
    """An element's centre as fractions of the viewport (how the view sends a point)."""
    found = await run_js(
        api,
        task_id,
        f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
        " return {x: (r.x + r.width / 2) / innerWidth, y: (r.y + r.height / 2) / innerHeight}; })()",
    )
    return dict(found)


async def test_the_socket_of_a_finished_task_closes(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    link = live_view_link(session["live_url"])
    view = await open_view(person, link)
    try:
        api.delete(f"/task/{task_id}")
        await view.locator("#notice", has_text="live view has ended").wait_for()
        assert "cancelled" in await view.locator("#notice").inner_text()
    finally:
        await view.close()
    socket_url = link.replace("http://", "ws://").replace("?token=", "/socket?token=")
    async with websockets.connect(socket_url) as socket:
        state = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert state["status"] == "cancelled"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4410


async def test_embed_shows_the_picture_alone_and_may_be_framed(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    embedded = live_view_link(session["live_url"], embed=True)
    standalone = live_view_link(session["live_url"])
    with httpx2.Client(timeout=30) as browser_user:
        headers = browser_user.get(embedded).headers
        assert "x-frame-options" not in headers
        assert "frame-ancestors" not in headers["content-security-policy"]
        headers = browser_user.get(standalone).headers
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
    # The user's own page (another origin) frames the embed link; the other link it cannot.
    page = await person.new_page()
    try:
        await page.goto(site.url("cookies.html"))
        await page.evaluate(
            "([a, b]) => { for (const [id, src] of [['a', a], ['b', b]]) {"
            " const f = document.createElement('iframe'); f.id = id; f.src = src;"
            " f.width = 640; f.height = 400; document.body.append(f); } }",
            [embedded, standalone],
        )
        frames = []
        for name in ("#a", "#b"):
            element = await page.wait_for_selector(name)
            frame = await element.content_frame()
            assert frame is not None
            await frame.wait_for_load_state()
            frames.append(frame)
        framed, blocked = frames
        await framed.locator("#frame[src^='blob:']").wait_for()
        assert await framed.locator("#frame").is_visible()
        assert not await framed.locator("header").is_visible()
        assert not await framed.locator("#steps").is_visible()
        assert await blocked.locator("#frame").count() == 0
    finally:
        await page.close()
    api.delete(f"/task/{task_id}")


async def test_the_sdk_sign_in_flow_keeps_the_login_in_the_profile(
    local_server: ThreadedServer, site: SiteServer, person: Browser, api: httpx2.Client
) -> None:
    profile_id = "signed-in-" + secrets.token_hex(4)
    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        await client.create_profile(profile_id)
        session = await client.session(profile_id=profile_id)
        await session.goto(site.url("login/index.html"))
        link = await session.live_url()  # interactive=true, as the SDK asks by default
        assert "interactive=true" in link
        view = await open_view(person, link)
        try:
            await sign_in_on_the_picture(view, api, session.id())
        finally:
            await view.close()
        await session.close()  # the default: force, DELETE /task/{id}
        async with client.session(profile_id=profile_id) as again:
            await again.goto(site.url("login/account"))
            title = await again.evaluate_js("document.title")
            text = await again.evaluate_js("document.body.innerText")
    assert title.output == "Your account | Login Site"
    assert f"Signed in as {NAME}" in text.output


async def test_a_profile_read_only_session_closed_by_delete_keeps_nothing(
    api: httpx2.Client, site: SiteServer
) -> None:
    profile_id = api.post("/profile", json={}).json()["r"]["id"]
    for read_only, expected in ((True, "Sign in | Login Site"), (False, "Your account | Login Site")):
        session = open_session(api, profile_id=profile_id, profile_read_only=read_only)
        act(api, session["id"], "browser_action", "goto", {"url": site.url("login/index.html")})
        await sign_in_by_script(api, session["id"])
        assert api.delete(f"/task/{session['id']}").status_code == 200
        again = open_session(api, profile_id=profile_id)
        act(api, again["id"], "browser_action", "goto", {"url": site.url("login/account")})
        assert await run_js(api, again["id"], "document.title") == expected
        api.delete(f"/task/{again['id']}")


async def sign_in_by_script(api: httpx2.Client, task_id: str) -> None:
    """Sign in from the page's own script (its cookie lands in the browser, as a form's would)."""
    form = f"username={USERNAME}&password={PASSWORD.replace(' ', '+')}"
    status = await run_js(
        api,
        task_id,
        "fetch('/login/session', {method: 'POST', body: "
        + json.dumps(form)
        + ", headers: {'content-type': 'application/x-www-form-urlencoded'}}).then((r) => r.url)",
    )
    assert status.endswith("/login/account")


def send_action(api: httpx2.Client, task_id: str, action: str, action_input: dict[str, Any]) -> str:
    payload = {"name": action, "input": action_input}
    sent = api.post(f"/task/{task_id}/event", json={"name": "browser_action", "payload": payload})
    assert sent.status_code == 200, sent.text
    return str(sent.json()["r"]["id"])


async def test_hand_over_is_answered_when_the_person_presses_done(
    api: httpx2.Client, site: SiteServer, person: Browser
) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    view = await open_view(person, live_view_link(session["live_url"]))
    try:
        # Where the fields are, read before the hand-over (the session answers no action during it).
        username = await point_on_page(api, task_id, "#username")
        password = await point_on_page(api, task_id, "#password")
        asked = send_action(api, task_id, HAND_OVER, {"message": "Please sign in as Ada", "timeout": 120})
        banner = view.locator("#handover")
        await banner.wait_for()
        assert "Please sign in as Ada" in await banner.inner_text()
        # The banner moved the picture down: the points are placed on it as it shows now.
        await view.mouse.click(*await on_picture(view, username))
        await view.keyboard.type(USERNAME)
        await view.mouse.click(*await on_picture(view, password))
        await view.keyboard.type(PASSWORD)
        await view.keyboard.press("Enter")
        await view.locator("#url", has_text="/login/account").wait_for()
        await view.locator("#done").click()
        answer = await asyncio.to_thread(wait_for_event, api, task_id, asked, 30)
        await banner.wait_for(state="hidden")
    finally:
        await view.close()
    payload = answer["payload"]
    assert payload["code"] == 200, payload
    output = payload["output"]["output"]
    assert output["handed_back"] is True
    assert output["url"] == site.url("login/account")
    assert output["title"] == "Your account | Login Site"
    assert f"Signed in as {NAME}" in output["text"]
    api.delete(f"/task/{task_id}")


async def test_hand_over_times_out_is_cancelled_or_closed(api: httpx2.Client, site: SiteServer) -> None:
    session = open_session(api, url=site.url("login/index.html"))
    task_id = session["id"]
    asked = send_action(api, task_id, HAND_OVER, {"message": "Sign in", "timeout": 0.5})
    timed_out = (await asyncio.to_thread(wait_for_event, api, task_id, asked, 30))["payload"]
    assert timed_out["code"] == 200, timed_out
    output = timed_out["output"]["output"]
    assert (output["handed_back"], output["reason"]) == (False, "timeout")
    assert output["title"] == "Sign in | Login Site"
    assert "Sign in" in output["text"]

    asked = send_action(api, task_id, HAND_OVER, {"message": "Sign in", "timeout": 600})
    cancel = send_action(api, task_id, CANCEL_HAND_OVER, {})
    cancelled = (await asyncio.to_thread(wait_for_event, api, task_id, asked, 30))["payload"]
    assert cancelled["output"]["output"]["reason"] == "cancelled"
    answer = (await asyncio.to_thread(wait_for_event, api, task_id, cancel, 30))["payload"]
    assert answer["output"]["output"] == {"cancelled": True}
    # Nothing pending now: a cancel says so.
    again = (await asyncio.to_thread(act, api, task_id, "browser_action", CANCEL_HAND_OVER, {}))["output"]
    assert again["output"] == {"cancelled": False}

    # Closing the session ends a pending hand-over too, answered before the close.
    asked = send_action(api, task_id, HAND_OVER, {"timeout": 600})
    closed = await asyncio.to_thread(act, api, task_id, "session_action", "close")
    assert closed["output"]["output"] is True
    ended = (await asyncio.to_thread(wait_for_event, api, task_id, asked, 30))["payload"]
    assert ended["output"]["output"]["reason"] == "closed"


async def test_the_screenshot_feed_where_there_is_no_screencast(
    local_server: ThreadedServer, api: httpx2.Client, site: SiteServer
) -> None:
    from smooth_agents.local.live.frames import Frame, FrameFeed

    session = open_session(api, url=site.url("login/index.html"))
    task = local_server.runtime.tasks[session["id"]]

    async def two_pictures() -> list[Frame]:
        assert task.browser is not None
        frames: list[Frame] = []
        arrived = asyncio.Event()

        def keep(frame: Frame) -> None:
            frames.append(frame)
            arrived.set()

        feed = FrameFeed(task.browser, keep, screencast=False)
        await feed.start()
        try:
            await asyncio.wait_for(arrived.wait(), 10)
            arrived.clear()
            await task.browser.evaluate_js("document.body.style.background = 'rgb(200, 0, 0)'")
            await asyncio.wait_for(arrived.wait(), 10)
        finally:
            await feed.stop()
        assert feed.mode == "screenshots"
        return frames

    frames = local_server.call(two_pictures())
    assert len(frames) >= 2
    assert frames[0].jpeg != frames[-1].jpeg
    assert (frames[-1].width, frames[-1].height) == (1280, 800)
    api.delete(f"/task/{session['id']}")
