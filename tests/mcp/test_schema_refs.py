"""A schema's remote or looping ``$ref`` through the MCP tools: a tool error that names it, and the
outside host it points at never reached (tests/local/test_schema_refs.py has the server's side)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer

from smooth_agents.agent_tools import ToolRuntime
from tests.helpers import SiteServer
from tests.local.test_schema_refs import LOOPING, SchemaHost, remote_schema


@pytest.fixture
def outside() -> Iterator[SchemaHost]:
    host = SchemaHost()
    yield host
    host.close()


async def test_smooth_extract_refuses_a_remote_reference_and_fetches_nothing(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer, outside: SchemaHost
) -> None:
    async with Client(mcp_server[0]) as mcp:
        for schema, names in ((remote_schema(outside), outside.ref()), (LOOPING, "is part of a loop")):
            arguments: dict[str, Any] = {"url": site.url("demo/product.html"), "json_schema": schema}
            result = await mcp.call_tool("smooth_extract", arguments)
            assert result.is_error
            text = str(result.content[0].text)  # type: ignore[union-attr]
            assert "json_schema is not a valid JSON schema" in text
            assert names in text
        # A session's extract passes the same check.
        opened = await mcp.call_tool("smooth_session_open", {"url": site.url("demo/product.html")})
        assert opened.structured_content is not None
        session_id = opened.structured_content["session_id"]
        refused = await mcp.call_tool(
            "smooth_session_extract", {"session_id": session_id, "json_schema": remote_schema(outside)}
        )
        assert refused.is_error
        assert outside.ref() in str(refused.content[0].text)  # type: ignore[union-attr]
        # The same tool serves on with a reference inside the schema.
        inside = {
            "$defs": {"money": {"type": "number"}},
            "type": "object",
            "properties": {"price": {"$ref": "#/$defs/money"}},
        }
        extracted = await mcp.call_tool(
            "smooth_extract", {"url": site.url("demo/product.html"), "json_schema": inside}
        )
        assert not extracted.is_error, extracted.content
        assert extracted.structured_content is not None
        assert extracted.structured_content["data"] == {"price": 1299.0}
        await mcp.call_tool("smooth_session_close", {"session_id": session_id})
    assert outside.requests == []
