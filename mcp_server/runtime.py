"""What the MCP server holds while it runs: one client and the registry of sessions it opened."""

from __future__ import annotations

import asyncio
import logging

import anyio

from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ProgressSink, SessionRegistry, ToolContext

from .settings import MCPSettings

log = logging.getLogger("smooth_agents.mcp")


class ToolRuntime:
    """Started by the first user (a transport, or an in-process client), closed by the last.

    Closing closes every session this server opened, then the client (and the embedded local
    server with its browser, if one runs).
    """

    def __init__(self, settings: MCPSettings, client: AsyncSmoothClient | None = None) -> None:
        self.settings = settings
        self._own_client = client is None
        self.client = client or AsyncSmoothClient()
        self.settings.tools.embedded = self.client.embedded
        self.sessions = SessionRegistry(
            self.client, ttl=settings.session_ttl, max_sessions=settings.max_sessions
        )
        self._users = 0
        self._lock = asyncio.Lock()

    def context(self, progress: ProgressSink, owner: str = "") -> ToolContext:
        return ToolContext(
            client=self.client,
            sessions=self.sessions,
            settings=self.settings.tools,
            progress=progress,
            owner=owner,
        )

    async def acquire(self) -> None:
        async with self._lock:
            self._users += 1
            if self._users == 1:
                self.sessions.start_reaper()

    async def release(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users == 0:
                await self.sessions.close_all()
                if self._own_client:
                    await self.client.close()

    async def close_now(self, timeout: float = 15.0) -> None:
        """Close every session and the client whoever still uses them (the process is ending)."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(timeout):
            async with self._lock:
                self._users = 0
                await self.sessions.close_all()
                if self._own_client:
                    await self.client.close()

    async def release_shielded(self, timeout: float = 15.0) -> None:
        """``release`` that completes even while the caller is being cancelled (a signal, a
        client gone): the remote sessions are closed, within ``timeout`` seconds."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(timeout):
            await self.release()
