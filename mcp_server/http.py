"""SSE and streamable HTTP: the MCP app behind Host/Origin checks and an optional bearer token."""

from __future__ import annotations

import hmac
import logging
import socket

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from smooth_agents.agent_tools import ToolRuntime

from .settings import LOOPBACK, MCPSettings

log = logging.getLogger("smooth_agents.mcp")


class BearerTokenGuard:
    """Refuses HTTP requests without ``Authorization: Bearer <token>`` naming one of the tokens
    (401)."""

    def __init__(self, app: ASGIApp, tokens: tuple[str, ...]) -> None:
        self.app = app
        self._tokens = tuple(token.encode() for token in tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # One Authorization header only: with two, this check and the owner of the call
            # (callers.py) could read different ones.
            presented_all = [value for name, value in scope["headers"] if name == b"authorization"]
            presented = presented_all[0] if len(presented_all) == 1 else b""
            scheme, _, value = presented.partition(b" ")
            # Every token is compared, so the time taken says nothing about which one was near.
            matches = [hmac.compare_digest(value.strip(), token) for token in self._tokens]
            if scheme.lower() != b"bearer" or not any(matches):
                body = b'{"error": "missing or wrong bearer token"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def security_settings(settings: MCPSettings) -> TransportSecuritySettings:
    """Host and Origin allow-lists (DNS-rebinding guard): loopback names plus what is configured."""
    names = set(LOOPBACK) | {settings.host} | set(settings.allowed_hosts)
    hosts = set()
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        hosts |= {shown, f"{shown}:{settings.port}", f"{shown}:*"}
    origins = {f"{scheme}://{h}" for scheme in ("http", "https") for h in hosts} | set(
        settings.allowed_origins
    )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


def http_app(server: MCPServer[ToolRuntime], settings: MCPSettings) -> ASGIApp:
    security = security_settings(settings)
    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(transport_security=security, host=settings.host)
    else:
        app = server.streamable_http_app(
            transport_security=security, host=settings.host, stateless_http=settings.stateless_http
        )
    if settings.auth_tokens:
        app = BearerTokenGuard(app, settings.auth_tokens)
    return app


class _Server(uvicorn.Server):
    """uvicorn, closing the runtime's sessions as part of its graceful shutdown: uvicorn re-raises
    the signal that stopped it as soon as ``serve`` ends, so later cleanup would never run."""

    def __init__(self, config: uvicorn.Config, runtime: ToolRuntime) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.released = False

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        await self.release()

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self.runtime.release_shielded()


async def serve_http(server: MCPServer[ToolRuntime], runtime: ToolRuntime, settings: MCPSettings) -> None:
    """Serve until stopped; the runtime (client, sessions) lives as long as the process, and its
    sessions are closed at shutdown (SIGTERM and SIGINT included)."""
    await runtime.acquire()
    config = uvicorn.Config(
        http_app(server, settings), host=settings.host, port=settings.port, log_level="warning"
    )
    http = _Server(config, runtime)
    try:
        await http.serve()
    finally:
        await http.release()
