"""Every line a host writes to smooth-mcp over stdio is answered, the malformed ones included."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from smooth_agents.local import ThreadedServer
from tests.mcp.test_transports import StdioServer, server_env, stdio_server

HELLO = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "raw", "version": "1"},
}

PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602

# Each malformed line, and the error code and id its answer must carry.
MALFORMED: list[tuple[str, int, int | str | None]] = [
    ("this is not json", PARSE_ERROR, None),
    ('{"jsonrpc": "2.0", "id": 5, "method": "tools/list"', PARSE_ERROR, None),
    # Valid JSON, far too deep: refused as such (tests/mcp/test_stdio_depth.py), not as unreadable.
    ("[" * 100_000 + "]" * 100_000, INVALID_REQUEST, None),
    ("[" * 100_000 + "]" * 99_999, PARSE_ERROR, None),
    ("[]", INVALID_REQUEST, None),
    ("42", INVALID_REQUEST, None),
    ('"tools/list"', INVALID_REQUEST, None),
    ("null", INVALID_REQUEST, None),
    ('[{"jsonrpc": "2.0", "id": 6, "method": "ping"}]', INVALID_REQUEST, None),
    ('{"jsonrpc": "1.0", "id": 7, "method": "tools/list"}', INVALID_REQUEST, 7),
    ('{"id": "eight", "method": "tools/list"}', INVALID_REQUEST, "eight"),
    ('{"jsonrpc": "2.0", "id": 9, "method": 12}', INVALID_REQUEST, 9),
    ('{"jsonrpc": "2.0", "id": "nine", "methd": "tools/list"}', INVALID_REQUEST, "nine"),
    ('{"jsonrpc": "2.0", "id": 10, "method": "tools/list", "params": "all"}', INVALID_PARAMS, 10),
    ('{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": [1, 2]}', INVALID_PARAMS, 11),
    ('{"jsonrpc": "2.0", "id": true, "method": "ping"}', INVALID_REQUEST, None),
    ('{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', INVALID_REQUEST, None),
    ('{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}', INVALID_REQUEST, None),
    # A malformed response: its id is one of the server's own, so it is not echoed back.
    ('{"jsonrpc": "2.0", "id": 12, "result": 1, "error": {"code": 1}}', INVALID_REQUEST, None),
]


@pytest.fixture
def server(local_server: ThreadedServer) -> Iterator[StdioServer]:
    with stdio_server(server_env(local_server)) as running:
        yield running


def test_each_malformed_line_gets_an_error_and_the_server_serves_on(server: StdioServer) -> None:
    server.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": HELLO}))
    assert server.next_message()["id"] == 1
    # A notification, with or without "id": null, gets no answer: the next line answers the next.
    server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    server.send(json.dumps({"jsonrpc": "2.0", "id": None, "method": "notifications/initialized"}))

    for line, code, request_id in MALFORMED:
        server.send(line)
        # Lines are answered in order: the next line on stdout answers this one.
        reply = server.next_message()
        assert reply["jsonrpc"] == "2.0"
        assert "result" not in reply, line[:80]
        assert reply["error"]["code"] == code, line[:80]
        assert reply["error"]["message"], line[:80]
        assert reply["id"] == request_id, line[:80]

    server.send("")  # a blank line is no message: nothing to answer
    server.send(json.dumps({"jsonrpc": "2.0", "id": 99, "method": "tools/list"}))
    listed = server.next_message()
    assert listed["id"] == 99
    assert any(tool["name"] == "smooth_browse" for tool in listed["result"]["tools"])

    assert server.process.stdin is not None
    server.process.stdin.close()  # the host is gone: the server ends on its own, cleanly
    assert server.process.wait(timeout=30) == 0
    assert "Traceback" not in server.stderr_text()
