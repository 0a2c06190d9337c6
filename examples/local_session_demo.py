"""Open a session on the local Smooth-compatible server, extract a product with a JSON schema.

Runs with no Smooth API key: it starts the self-hosted server on a loopback port (a real
headless Chromium behind it), opens a session on the demo product page that server serves,
extracts structured data with a JSON schema, prints it as JSON on stdout and closes the session.
Progress goes to stderr. This talks to the REST API directly; once the core client lands, the
same job is three calls on ``smooth_agents.SmoothClient``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from smooth_agents.local import LocalServerSettings, ThreadedServer

PRODUCT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "product name"},
        "price": {"type": "number", "description": "current price"},
        "currency": {"type": "string"},
        "rating": {"type": "number"},
        "in_stock": {"type": "boolean", "description": "availability"},
    },
    "required": ["name", "price"],
}


def action(http: httpx2.Client, task_id: str, name: str, payload: dict[str, Any], timeout: float = 30) -> Any:
    """Send one session action and poll until its result event arrives."""
    sent = http.post(f"/task/{task_id}/event", json={"name": name, "payload": payload})
    sent.raise_for_status()
    event_id = sent.json()["r"]["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = http.get(f"/task/{task_id}", params={"event_t": 0}).json()["r"]
        for event in task.get("events") or []:
            if event["id"] == event_id:
                result = event["payload"]
                if result["code"] != 200:
                    raise RuntimeError(f"{payload['name']} failed: {result['output']}")
                return result["output"]["output"]
        time.sleep(0.01)
    raise TimeoutError(f"{payload['name']} did not finish within {timeout} s")


def main() -> int:
    key = LocalServerSettings.generate_api_key()
    settings = LocalServerSettings(api_keys=frozenset({key}), port=0, data_dir=Path(tempfile.mkdtemp()))
    with ThreadedServer(settings) as server:
        page = f"http://127.0.0.1:{settings.port}/demo/product.html"
        print(f"local Smooth server at {server.base_url}; opening a session on {page}", file=sys.stderr)
        with httpx2.Client(base_url=server.api_url, headers={"apikey": key}, timeout=60) as http:
            opened = http.post("/task", json={"task": None, "url": page})
            opened.raise_for_status()
            task = opened.json()["r"]
            print(f"session {task['id']} running; watch it at {task['live_url']}", file=sys.stderr)
            try:
                product = action(
                    http,
                    task["id"],
                    "browser_action",
                    {"name": "extract", "input": {"schema": PRODUCT_SCHEMA, "prompt": "the product"}},
                )
            finally:
                action(http, task["id"], "session_action", {"name": "close"})
    print(json.dumps(product, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
