"""The MCP host's own model drives the embedded browser agent (``smooth-mcp --local-model host``):
an MCP client, in process, whose sampling callback plays the host's model. It reads the page states
it is sent, answers with tool calls, and ends with a structured answer; no provider key anywhere."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import pytest
from mcp.client import Client, ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResultWithTools,
    SamplingCapability,
    SamplingToolsCapability,
    TextContent,
    ToolResultContent,
    ToolUseContent,
)

from mcp_server.server import build_server
from mcp_server.settings import MCPSettings
from smooth_agents.agent_tools import ToolSettings
from tests.helpers import SiteServer

PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}
WITH_TOOLS = SamplingCapability(tools=SamplingToolsCapability())


@pytest.fixture(autouse=True)
def no_smooth_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY", "SMOOTH_BASE_URL", "SMOOTH_LOCAL_MODEL"):
        monkeypatch.delenv(variable, raising=False)


def texts_of(params: CreateMessageRequestParams) -> list[str]:
    """Every text the host's model was sent, oldest first (the opening and each tool result)."""
    found: list[str] = []
    for message in params.messages:
        for block in message.content_as_list:
            if isinstance(block, TextContent):
                found.append(block.text)
            elif isinstance(block, ToolResultContent):
                found.extend(part.text for part in block.content if isinstance(part, TextContent))
    return found


def ref_of(params: CreateMessageRequestParams, role: str, label: str) -> str:
    state = next(text for text in reversed(texts_of(params)) if "URL: " in text)
    found = re.search(rf'- {role} "{re.escape(label)}[^"]*" \[ref=(e\d+)\]', state)
    assert found, state
    return found.group(1)


class HostModel:
    """The host's model: a script of tool calls, each worked out from what it was sent."""

    def __init__(self) -> None:
        self.requests: list[CreateMessageRequestParams] = []

    def next_call(self, params: CreateMessageRequestParams) -> tuple[str, dict[str, Any]]:
        turn = len(self.requests)
        if turn == 1:
            return "type_text", {
                "ref": ref_of(params, "searchbox", "Search"),
                "text": "nimbus",
                "submit": True,
            }
        if turn == 2:
            return "click", {"ref": ref_of(params, "link", "Next page")}
        if turn == 3:
            return "click", {"ref": ref_of(params, "link", "Nimbus Ultra")}
        state = next(text for text in reversed(texts_of(params)) if "URL: " in text)
        name = re.search(r"^# (.+)$", state, re.MULTILINE)
        price = re.search(r"Price: ([\d.]+)", state)
        assert name
        assert price
        answer = {"name": name.group(1), "price": float(price.group(1))}
        return "finish", {"answer_json": json.dumps(answer)}

    async def __call__(
        self, context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResultWithTools:
        self.requests.append(params)
        name, arguments = self.next_call(params)
        return CreateMessageResultWithTools(
            role="assistant",
            content=[ToolUseContent(id=f"use-{len(self.requests)}", name=name, input=arguments)],
            model="host-model-1",
            stop_reason="toolUse",
        )


async def test_the_host_model_drives_smooth_browse_through_sampling(site: SiteServer) -> None:
    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    host = HostModel()
    async with Client(server, mode="legacy", sampling_callback=host, sampling_capabilities=WITH_TOOLS) as mcp:
        browse = next(t for t in (await mcp.list_tools()).tools if t.name == "smooth_browse")
        assert "plain language" in (browse.description or "")  # the host is told what it can do
        result = await mcp.call_tool(
            "smooth_browse",
            {
                "task": "Find the price of the Nimbus Ultra",
                "url": site.url("shop/index.html"),
                "response_schema": PRODUCT,
            },
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["output"] == {"name": "Nimbus Ultra", "price": 1899.0}
    # Four turns of the host's model, each offered the browser's tools and a system prompt.
    assert len(host.requests) == 4
    first = host.requests[0]
    assert {"click", "type_text", "finish", "page_state"} <= {t.name for t in first.tools or []}
    assert first.system_prompt
    assert "Find the price of the Nimbus Ultra" in texts_of(first)[0]
    # The later turns carry the whole conversation: each tool use answered by its result.
    last = host.requests[-1].messages
    assert [m.role for m in last[-2:]] == ["assistant", "user"]
    assert isinstance(last[-1].content_as_list[0], ToolResultContent)


@pytest.mark.parametrize(
    "lends",
    [
        pytest.param({"mode": "legacy"}, id="no-sampling-tools"),
        # Under protocol 2026-07-28 the server has no way to ask the client anything mid-task.
        pytest.param(
            {"sampling_callback": HostModel(), "sampling_capabilities": WITH_TOOLS}, id="protocol-2026"
        ),
    ],
)
async def test_a_client_that_lends_no_model_is_told_what_the_task_needs(
    site: SiteServer, lends: dict[str, Any]
) -> None:
    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    async with Client(server, **lends) as mcp:
        result = await mcp.call_tool(
            "smooth_browse", {"task": "Find the Nimbus Ultra", "url": site.url("shop/index.html")}
        )
    text = str(result.content[0].text)  # type: ignore[union-attr]
    assert result.is_error
    assert "sampling.tools" in text
    assert "--local-model provider:model" in text


async def test_over_stdio_as_claude_desktop_runs_it(site: SiteServer) -> None:
    # smooth-mcp as its own process (the config a desktop host runs), the host's model answering
    # over the pipe; the flag's environment twin picks the host's model.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env["SMOOTH_MCP_LOCAL_MODEL"] = "host"
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env)
    host = HostModel()
    async with Client(
        parameters, mode="legacy", sampling_callback=host, sampling_capabilities=WITH_TOOLS
    ) as mcp:
        result = await mcp.call_tool(
            "smooth_browse",
            {
                "task": "Find the price of the Nimbus Ultra",
                "url": site.url("shop/index.html"),
                "response_schema": PRODUCT,
            },
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["output"] == {"name": "Nimbus Ultra", "price": 1899.0}
    assert len(host.requests) == 4


async def test_smooth_extract_asks_the_host_model_for_what_the_rules_left_empty(site: SiteServer) -> None:
    lamp = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "warranty_years": {"type": "integer"}},
        "required": ["name", "warranty_years"],
    }
    asked: list[CreateMessageRequestParams] = []

    async def host(
        context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResultWithTools:
        asked.append(params)
        text = texts_of(params)[-1]
        years = 3 if "for three years" in text else 0
        return CreateMessageResultWithTools(
            role="assistant",
            content=[ToolUseContent(id="fill-1", name="record_values", input={"warranty_years": years})],
            model="host-model-1",
            stop_reason="toolUse",
        )

    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    async with Client(server, mode="legacy", sampling_callback=host, sampling_capabilities=WITH_TOOLS) as mcp:
        result = await mcp.call_tool(
            "smooth_extract", {"url": site.url("extract/lamp.html"), "json_schema": lamp}
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["data"] == {"name": "Arc floor lamp", "warranty_years": 3}
    assert len(asked) == 1
    assert [t.name for t in asked[0].tools or []] == ["record_values"]
