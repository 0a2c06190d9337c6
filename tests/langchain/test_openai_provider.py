"""The real provider package (langchain-openai, the OpenAI SDK under it) driving the local browser
agent, against an OpenAI-compatible server on loopback: ``smooth-agents run`` with
``SMOOTH_LOCAL_MODEL=openai:...`` as the README tells a user to type it, no Smooth key."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.core.test_cli import cli
from tests.fake_openai import FakeOpenAI
from tests.helpers import SiteServer

PROVIDER_KEY = "sk-fake-provider-key-0123456789abcdef"
PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def shopper(messages: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Plays the model: reads the last page state it was sent, answers with the next call."""
    state = next(text_of(m) for m in reversed(messages) if "URL: " in text_of(m))

    def ref(role: str, label: str) -> str:
        found = re.search(rf'- {role} "{re.escape(label)}[^"]*" \[ref=(e\d+)\]', state)
        assert found, state
        return found.group(1)

    turn = sum(1 for m in messages if m["role"] == "assistant")
    if turn == 0:
        return "type_text", {"ref": ref("searchbox", "Search"), "text": "nimbus", "submit": True}
    if turn == 1:
        return "click", {"ref": ref("link", "Next page")}
    if turn == 2:
        return "click", {"ref": ref("link", "Nimbus Ultra")}
    name = re.search(r"^# (.+)$", state, re.MULTILINE)
    price = re.search(r"Price: ([\d.]+)", state)
    assert name
    assert price
    return "finish", {"answer_json": json.dumps({"name": name.group(1), "price": float(price.group(1))})}


def test_smooth_agents_run_with_an_openai_model_does_the_task(site: SiteServer) -> None:
    with FakeOpenAI(shopper) as provider:
        done = cli(
            "run",
            "Find the price of the Nimbus Ultra",
            "--url",
            site.url("shop/index.html"),
            "--schema",
            json.dumps(PRODUCT),
            env={
                "SMOOTH_LOCAL_MODEL": "openai:gpt-4o-mini",
                "OPENAI_API_KEY": PROVIDER_KEY,
                "OPENAI_BASE_URL": provider.base_url,
            },
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "Nimbus Ultra", "price": 1899.0}
    assert "a local model does plain-language tasks" in done.stderr
    assert "browser_action" in done.stderr  # the steps shown as progress
    # The provider's own client made the requests: four turns, the browser's tools offered.
    assert len(provider.requests) == 4
    offered = {tool["function"]["name"] for tool in provider.requests[0]["tools"]}
    assert {"click", "type_text", "page_state", "finish"} <= offered
    assert provider.requests[0]["model"] == "gpt-4o-mini"
    assert all(header == f"Bearer {PROVIDER_KEY}" for header in provider.authorizations)
    # The key went to the provider only: never in what the program printed.
    assert PROVIDER_KEY not in done.stdout + done.stderr
