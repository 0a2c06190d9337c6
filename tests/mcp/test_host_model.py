"""The MCP host's own model drives the embedded browser agent (``smooth-mcp --local-model host``):
an MCP client whose sampling callback plays the host's model. It reads the page states it is sent,
answers with tool calls, and ends with a structured answer; no provider key anywhere. Clients with
the initialize handshake are asked on their connection; clients on protocol 2026-07-28 through the
"input required" answers of their own tool calls."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from typing import Any

import pytest
from mcp.client import Client, ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
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
from tests.mcp.test_transports import http_server

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

    def __init__(self, looks: int = 0) -> None:
        self.requests: list[CreateMessageRequestParams] = []
        self.looks = looks  # turns spent looking at the page first

    def next_call(self, params: CreateMessageRequestParams) -> tuple[str, dict[str, Any]]:
        if len(self.requests) <= self.looks:
            return "page_state", {}
        turn = len(self.requests) - self.looks
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


async def test_a_client_on_protocol_2026_lends_its_model_through_input_required_answers(
    site: SiteServer,
) -> None:
    # A default client (protocol 2026-07-28, no connection kept): each turn of the host's model
    # rides an "input required" answer to the smooth_browse call, which the client's SDK fulfils
    # with its sampling callback before sending the call again.
    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    host = HostModel()
    reports: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append(message or "")

    async with Client(server, sampling_callback=host, sampling_capabilities=WITH_TOOLS) as mcp:
        assert mcp.protocol_version == "2026-07-28"
        result = await mcp.call_tool(
            "smooth_browse",
            {
                "task": "Find the price of the Nimbus Ultra",
                "url": site.url("shop/index.html"),
                "response_schema": PRODUCT,
            },
            progress_callback=on_progress,
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    assert result.structured_content["output"] == {"name": "Nimbus Ultra", "price": 1899.0}
    text = str(result.content[0].text)  # type: ignore[union-attr]
    assert "Nimbus Ultra" in text  # the text a host hands its model carries the answer
    assert "1899" in text
    assert len(host.requests) == 4
    first = host.requests[0]
    assert {"click", "type_text", "finish", "page_state"} <= {t.name for t in first.tools or []}
    assert first.system_prompt
    assert isinstance(host.requests[-1].messages[-1].content_as_list[0], ToolResultContent)
    assert any("step" in message for message in reports)  # the task's progress still reaches the host


async def test_a_task_that_outlives_its_call_goes_on_while_its_status_is_read(site: SiteServer) -> None:
    # The host's model takes longer than smooth_browse waits: the call answers "running", and the
    # task's later turns wait for the client's next call. smooth_task_status carries them and stays
    # open while the task runs, so one call brings the answer.
    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    host = HostModel()

    async def slow_host(
        context: ClientRequestContext, params: CreateMessageRequestParams
    ) -> CreateMessageResultWithTools:
        if not host.requests:
            await asyncio.sleep(2)  # past the one second smooth_browse waits
        return await host(context, params)

    async with Client(server, sampling_callback=slow_host, sampling_capabilities=WITH_TOOLS) as mcp:
        started = await mcp.call_tool(
            "smooth_browse",
            {
                "task": "Find the price of the Nimbus Ultra",
                "url": site.url("shop/index.html"),
                "response_schema": PRODUCT,
                "wait_seconds": 1,
            },
        )
        assert not started.is_error, started.content
        assert started.structured_content is not None
        assert started.structured_content["status"] in ("waiting", "running")
        # The first turn rode the smooth_browse call, or came after it answered (a slow browser).
        assert len(host.requests) <= 1
        task_id = started.structured_content["task_id"]
        result = await mcp.call_tool("smooth_task_status", {"task_id": task_id})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    assert result.structured_content["output"] == {"name": "Nimbus Ultra", "price": 1899.0}
    assert "Nimbus Ultra" in str(result.content[0].text)  # type: ignore[union-attr]
    assert len(host.requests) == 4


async def test_a_call_is_answered_input_required_no_more_often_than_clients_allow(
    site: SiteServer,
) -> None:
    # Twelve turns, and a client that gives up on a call after ten "input required" answers (the
    # SDK's default): smooth_browse carries ten, then answers as without a model ("running" when
    # its budget ends), and smooth_task_status carries the rest.
    server, _runtime = build_server(MCPSettings(local_model="host", tools=ToolSettings(wait_seconds=60)))
    host = HostModel(looks=8)
    async with Client(server, sampling_callback=host, sampling_capabilities=WITH_TOOLS) as mcp:
        assert mcp.input_required_max_rounds == 10
        started = await mcp.call_tool(
            "smooth_browse",
            {
                "task": "Find the price of the Nimbus Ultra",
                "url": site.url("shop/index.html"),
                "response_schema": PRODUCT,
                "wait_seconds": 8,
            },
        )
        assert started.structured_content is not None
        assert started.structured_content["status"] == "running", started.content
        assert len(host.requests) <= 10
        result = await mcp.call_tool("smooth_task_status", {"task_id": started.structured_content["task_id"]})
    assert result.structured_content is not None
    assert result.structured_content["output"] == {"name": "Nimbus Ultra", "price": 1899.0}
    assert len(host.requests) == 12


@pytest.mark.parametrize(
    "lends",
    [
        pytest.param({"mode": "legacy"}, id="no-sampling-tools"),
        # Sampling without tools, under protocol 2026-07-28: the browser's tools cannot be offered.
        pytest.param({"sampling_callback": HostModel()}, id="protocol-2026-no-sampling-tools"),
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


async def test_over_streamable_http_on_protocol_2026(site: SiteServer) -> None:
    # smooth-mcp as its own process behind a bearer token, a client on protocol 2026-07-28: the
    # state of each "input required" answer is sealed by the SDK and must come back as given.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update({"SMOOTH_MCP_LOCAL_MODEL": "host", "SMOOTH_MCP_AUTH_TOKEN": "token-of-the-host-0123456789"})
    host = HostModel()
    headers = {"authorization": "Bearer token-of-the-host-0123456789"}
    with http_server(env, "streamable-http") as (base, _process):
        async with (
            create_mcp_http_client(headers=headers) as http,
            Client(
                streamable_http_client(base + "/mcp", http_client=http),
                sampling_callback=host,
                sampling_capabilities=WITH_TOOLS,
            ) as mcp,
        ):
            assert mcp.protocol_version == "2026-07-28"
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


@pytest.mark.parametrize(
    "mode", [pytest.param({"mode": "legacy"}, id="handshake"), pytest.param({}, id="protocol-2026")]
)
async def test_smooth_extract_asks_the_host_model_for_what_the_rules_left_empty(
    site: SiteServer, mode: dict[str, Any]
) -> None:
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
    async with Client(server, **mode, sampling_callback=host, sampling_capabilities=WITH_TOOLS) as mcp:
        result = await mcp.call_tool(
            "smooth_extract", {"url": site.url("extract/lamp.html"), "json_schema": lamp}
        )
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["data"] == {"name": "Arc floor lamp", "warranty_years": 3}
    assert len(asked) == 1
    assert [t.name for t in asked[0].tools or []] == ["record_values"]
