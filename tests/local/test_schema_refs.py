"""A schema's ``$ref`` never makes the local server fetch anything, and a looping one is bad input.

The outside host is a loopback HTTP server that would serve the schema it is asked for (the attack
at its most tempting) and records every connection: it must see none.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from tests.helpers import SiteServer, act, open_session, wait_for_status

SECRET = "s3cr3t-from-the-page"


class SchemaHost:
    """A loopback HTTP server playing a host outside every allowed_urls: it answers any GET with a
    schema and records each request line (and each connection, answered or not)."""

    def __init__(self) -> None:
        requests: list[str] = []
        self.requests = requests

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                requests.append("(connection)")
                super().setup()

            def do_GET(self) -> None:
                requests.append(self.requestline)
                body = b'{"type": "string"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/schema+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def ref(self) -> str:
        """A reference to a schema on this host, carrying a secret as an exfiltration would."""
        return f"http://127.0.0.1:{self.port}/schema.json?d={SECRET}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@pytest.fixture
def outside() -> Iterator[SchemaHost]:
    host = SchemaHost()
    yield host
    host.close()


def remote_schema(host: SchemaHost) -> dict[str, Any]:
    return {"type": "object", "properties": {"name": {"$ref": host.ref()}}}


# A reference that leads back to itself without going deeper into the data: checking any value
# against it recursed until Python's limit (a RecursionError, an HTTP 500 and a logged traceback).
LOOPING = {
    "type": "object",
    "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
    "properties": {"name": {"$ref": "#/$defs/a"}},
}


def test_a_task_s_remote_reference_is_refused_and_never_fetched(
    api: httpx2.Client, site: SiteServer, outside: SchemaHost
) -> None:
    response = api.post(
        "/task",
        json={
            "task": "Get the product",
            "url": site.url("demo/product.html"),
            "response_model": remote_schema(outside),
        },
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "response_model"]
    assert outside.ref() in problem["msg"]
    assert "outside the schema" in problem["msg"]
    assert outside.requests == []


def test_a_task_s_looping_reference_is_bad_input_not_a_server_error(
    api: httpx2.Client, site: SiteServer, caplog: pytest.LogCaptureFixture
) -> None:
    response = api.post(
        "/task",
        json={"task": "Get the product", "url": site.url("demo/product.html"), "response_model": LOOPING},
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert "$ref '#/$defs/b' is part of a loop" in problem["msg"]
    assert "Traceback" not in caplog.text


def test_a_session_extract_with_a_remote_or_looping_reference_is_refused(
    api: httpx2.Client, site: SiteServer, outside: SchemaHost
) -> None:
    session = open_session(api, url=site.url("demo/product.html"))
    for schema, names in (
        (remote_schema(outside), outside.ref()),
        (LOOPING, "$ref '#/$defs/b' is part of a loop"),
    ):
        action = {"name": "browser_action", "payload": {"name": "extract", "input": {"schema": schema}}}
        refused = api.post(f"/task/{session['id']}/event", json=action)
        assert refused.status_code == 400, refused.text
        assert names in refused.json()["detail"]
    # A run_task action's response_model passes the same check.
    run_input = {"task": "Get the product", "response_model": remote_schema(outside)}
    run = {"name": "session_action", "payload": {"name": "run_task", "input": run_input}}
    assert api.post(f"/task/{session['id']}/event", json=run).status_code == 400
    # The session serves on, and references inside the schema (an anchor among them) resolve.
    inside = {
        "$defs": {"money": {"$anchor": "money", "type": "number"}},
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"$ref": "#money"}},
        "required": ["name", "price"],
    }
    extracted = act(api, session["id"], "browser_action", "extract", {"schema": inside})
    assert extracted["code"] == 200, extracted
    assert extracted["output"]["output"] == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}
    assert outside.requests == []


def test_a_recursive_schema_that_recurses_through_the_data_still_extracts(
    api: httpx2.Client, site: SiteServer
) -> None:
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "parts": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["name"],
    }
    response = api.post(
        "/task",
        json={"task": "Get the product", "url": site.url("demo/product.html"), "response_model": tree},
    )
    assert response.status_code == 200, response.text
    done = wait_for_status(api, response.json()["r"]["id"])
    assert done["status"] == "done", done
    assert done["output"]["name"] == "Nimbus 14 Pro Laptop"
