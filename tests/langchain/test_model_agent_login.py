"""A login kept in a profile: the model agent signs in once (a scripted chat model typing into the
real form it is shown), the local server saves the context's cookies into the profile when the
task ends, and a later task on that profile, on a restarted server, opens the account signed in."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, LoginSite, SiteServer, make_settings
from tests.langchain.scripting import call_with, everything_shown, last_state, ref_of, text_of

USERNAME = "ada"
PASSWORD, NAME = LoginSite.USERS[USERNAME]
PASSWORD_FIELD = 'textbox "Password"'


def signed_in_name(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    """finish with the name the account page shows (the script fails if the page shows none)."""
    found = re.search(r"^\s*Signed in as (.+)$", last_state(messages), re.MULTILINE)
    assert found, f"not signed in:\n{last_state(messages)}"
    return {"answer_json": found.group(1).strip()}


def signing_in() -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[
            call_with("type_text", lambda m: {"ref": ref_of(m, "textbox", "Username"), "text": USERNAME}),
            call_with(
                "type_text",
                lambda m: {"ref": ref_of(m, "textbox", "Password"), "text": PASSWORD, "submit": True},
            ),
            call_with("finish", signed_in_name),
        ]
    )


def saved_cookies(path: Path) -> dict[str, str]:
    state = json.loads(path.read_text(encoding="utf-8"))
    return {cookie["name"]: cookie["value"] for cookie in state["cookies"]}


def script(*steps: dict[str, Any]) -> str:
    """A task for the local server's scripted agent (no model): these steps, in order."""
    return "script:" + json.dumps(list(steps))


@pytest.mark.parametrize("restricted", [False, True], ids=["any-url", "allowed-urls"])
async def test_a_login_saved_in_a_profile_signs_in_the_next_task(
    tmp_path: Path, site: SiteServer, restricted: bool
) -> None:
    # Under allowed_urls every request is made by the server's guard, redirects followed by hand:
    # the cookie the login's redirect sets must still reach the browser.
    allowed = [site.url("login/*")] if restricted else None
    login = site.login
    logins_before = len(login.logins)
    first_model = signing_in()
    with ThreadedServer(make_settings(tmp_path, model=first_model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            profile = await client.create_profile()
            handle = await client.run(
                f"Sign in as {USERNAME} (password {PASSWORD}) and tell me the account holder's name",
                url=site.url("login/index.html"),
                profile_id=profile.id,
                allowed_urls=allowed,
            )
            first = await handle.result(timeout=60)
            # A task without the profile starts with no cookie: it is sent to the form.
            control = await client.run(
                script(
                    {"action": "goto", "url": site.url("login/account")},
                    {"action": "evaluate_js", "js": "document.title"},
                ),
                allowed_urls=allowed,
            )
            outside = await control.result(timeout=60)
        profile_path = server.runtime.storage.profile_path(profile.id)
        steps = [e.payload for e in server.runtime.tasks[handle.id].events if e.name == "browser_action"]

    assert first.output == NAME
    # The model typed into the form it was shown, and the submit landed on the account page.
    assert PASSWORD_FIELD in text_of(first_model.seen[0][-1])
    assert [s["name"] for s in steps] == ["type_text", "type_text"]
    assert steps[1]["url"] == site.url("login/account")
    # The user name is shown to watchers; the password typed into its field is not.
    assert steps[0]["input"]["text"] == USERNAME
    assert steps[1]["input"]["text"] == f"(hidden: {len(PASSWORD)} characters)"
    assert PASSWORD not in json.dumps(steps)
    # One login, and its session cookie is what the profile keeps on disk.
    assert len(login.logins) == logins_before + 1
    token = login.logins[-1]
    assert saved_cookies(profile_path)[LoginSite.COOKIE] == token
    assert outside.output == "Sign in | Login Site"

    visits_before = len(login.account_visits)
    second_model = ScriptedChatModel(steps=[call_with("finish", signed_in_name)])
    # A new server over the same data dir: the profile lives on disk, not in the process.
    with ThreadedServer(make_settings(tmp_path, model=second_model)) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Who is signed in on the account page?",
                url=site.url("login/account"),
                profile_id=profile.id,
                allowed_urls=allowed,
            )
            second = await handle.result(timeout=60)

    assert second.output == NAME
    # Signed in from its first look: no form, no password, no second login.
    assert len(second_model.seen) == 1
    shown = everything_shown(second_model.seen)
    assert "Signed in as Ada Lovelace" in shown
    assert PASSWORD_FIELD not in shown
    assert PASSWORD not in shown
    assert len(login.logins) == logins_before + 1
    # Every request for the account page carried the cookie the profile kept.
    visits = login.account_visits[visits_before:]
    assert visits
    assert all(visit == token for visit in visits)
