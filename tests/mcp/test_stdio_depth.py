"""A request nested too deeply for any parser is answered over stdio under its own id.

Before, 1,000 levels of valid JSON were answered -32700 with id null (the host waited for ever on
its id) and 200-300 levels got a misleading -32600 about the message's shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mcp_server.stdio import MAX_NESTING
from smooth_agents.local import ThreadedServer
from tests.mcp.test_stdio_lines import HELLO, INVALID_REQUEST
from tests.mcp.test_transports import StdioServer, server_env, stdio_server


@pytest.fixture
def server(local_server: ThreadedServer) -> Iterator[StdioServer]:
    with stdio_server(server_env(local_server)) as running:
        yield running


def nested_call(request_id: int | str, levels: int) -> str:
    """A tools/call request whose arguments hold a value nested ``levels`` arrays deep."""
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "smooth_session_list", "arguments": {"deep": "HERE"}},
    }
    return json.dumps(message).replace('"HERE"', "[" * levels + "]" * levels)


def test_deep_requests_are_answered_under_their_id_and_the_server_serves_on(server: StdioServer) -> None:
    server.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": HELLO}))
    assert server.next_message()["id"] == 1
    server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))

    for request_id, levels in ((2, 1_000), ("two-fifty", 250), (3, 100_000)):
        server.send(nested_call(request_id, levels))
        reply = server.next_message()
        assert reply["id"] == request_id
        assert reply["error"]["code"] == INVALID_REQUEST
        assert f"too deeply nested (more than {MAX_NESTING} levels)" in reply["error"]["message"]

    # As deep as allowed (the message's own three levels, and the value's): read as usual, and
    # answered by the tool (whose arguments admit no such field), not by the line reader.
    server.send(nested_call(4, MAX_NESTING - 3))
    reply = server.next_message()
    assert reply["id"] == 4
    assert reply["result"]["isError"] is True
    assert "deep: Extra inputs are not permitted" in reply["result"]["content"][0]["text"]

    listed = server.request({"jsonrpc": "2.0", "id": 5, "method": "tools/list"})
    assert listed is not None
    assert any(tool["name"] == "smooth_browse" for tool in listed["result"]["tools"])

    assert server.process.stdin is not None
    server.process.stdin.close()
    assert server.process.wait(timeout=30) == 0
    assert "Traceback" not in server.stderr_text()
