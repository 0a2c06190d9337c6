"""The MCP server: an ``MCPServer`` (mcp 2.x) holding one client, serving the core's tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer

from smooth_agents import AsyncSmoothClient, __version__
from smooth_agents.agent_tools import ToolRuntime, tools_for
from smooth_agents.host_models import HOST_MODEL, HostModels
from smooth_agents.shared_server import SharedLocalServer

from .host_model_rounds import HostModelRounds
from .settings import MCPSettings
from .tools import mcp_tool

INSTRUCTIONS = (
    "Smooth runs web tasks in a real browser. smooth_browse does a whole task from a description; "
    "smooth_extract reads one page (or a list of pages) into JSON; smooth_map lists a site's pages and "
    "smooth_crawl reads many of them in one call; the smooth_session_* tools drive a browser step by step. "
    "Results carry a live_url where a person can watch the browser; smooth_session_handoff hands a "
    "session's browser to the person for a sign-in, a one-time code or a CAPTCHA. Close sessions you open."
)


def build_server(
    settings: MCPSettings | None = None,
    *,
    client: AsyncSmoothClient | None = None,
    host_models: HostModels | None = None,
    shared_server: SharedLocalServer | None = None,
) -> tuple[MCPServer[ToolRuntime], ToolRuntime]:
    """The server and its runtime. The runtime starts with the first connection (or a transport
    that holds it for the process) and closes with the last.

    With ``settings.local_model`` "host", each client's own model drives the browser agent of the
    embedded local server (the one a client made here runs; a ``client`` given runs against a
    server whose model is ``host_models``). ``shared_server``: with no Smooth key, this user's
    shared local server, for the client made here (``shared_browser.find_shared_browser``)."""
    settings = settings or MCPSettings()
    local_model: Any = settings.local_model
    if local_model == HOST_MODEL:
        host_models = host_models or HostModels()
        local_model = host_models
    elif host_models is not None:
        raise ValueError("host_models needs local_model='host'")
    runtime = ToolRuntime(
        client,
        settings=settings.tools,
        session_ttl=settings.session_ttl,
        max_sessions=settings.max_sessions,
        # A client given brings its own server and model; the host's channels still open here.
        local_model=local_model if client is None else None,
        shared_server=shared_server,
        state_url=settings.state_url,
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer[ToolRuntime]) -> AsyncIterator[ToolRuntime]:
        await runtime.acquire()
        try:
            yield runtime
        finally:
            await runtime.release_shielded()

    local_machine = settings.transport == "stdio"
    server: MCPServer[ToolRuntime] = MCPServer(
        "smooth",
        title="Smooth browser agent",
        instructions=INSTRUCTIONS,
        version=__version__,
        tools=[
            mcp_tool(definition, runtime, host_models=host_models)
            for definition in tools_for(local_machine=local_machine, file_roots=settings.tools.file_roots)
        ],
        lifespan=lifespan,
        log_level="WARNING",
        # Under protocol 2026-07-28 the client is asked (the host's model, the person) through the
        # calls in flight.
        middleware=[HostModelRounds(host_models, runtime)],
    )
    return server, runtime
