"""A schema's remote ``$ref`` through the LangChain tools: a tool error that names it, and the host
it points at never reached (tests/local/test_schema_refs.py has the server's side)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from langchain_core.messages import ToolMessage

from langchain_tools import SmoothExtractTool
from smooth_agents.agent_tools import BlockingToolRuntime
from tests.helpers import SiteServer
from tests.local.test_schema_refs import SchemaHost, remote_schema


@pytest.fixture
def outside() -> Iterator[SchemaHost]:
    host = SchemaHost()
    yield host
    host.close()


def test_smooth_extract_refuses_a_remote_reference_and_fetches_nothing(
    lc_runtime: BlockingToolRuntime, site: SiteServer, outside: SchemaHost
) -> None:
    tool = SmoothExtractTool(runtime=lc_runtime)
    arguments = {"url": site.url("demo/product.html"), "json_schema": json.dumps(remote_schema(outside))}
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": arguments})
    assert isinstance(message, ToolMessage)
    assert message.status == "error"
    assert outside.ref() in str(message.content)
    assert "outside the schema" in str(message.content)
    assert outside.requests == []
