"""What the LangChain tools share: one client, one session registry, one private event loop.

Every tool call runs the core's async tool function on the client's loop: ``_run`` waits for it,
``_arun`` awaits it from the caller's loop without blocking that loop. So sync and async agents
share sessions (a session opened by one tool is used by the next, whichever path each took).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from smooth_agents import SmoothClient
from smooth_agents.agent_tools import ProgressSink, SessionRegistry, ToolContext, ToolDefinition, ToolSettings
from smooth_agents.custom_tools import CustomTool


class SmoothRuntime:
    def __init__(
        self,
        client: SmoothClient | None = None,
        *,
        api_key: SecretStr | str | None = None,
        base_url: str | None = None,
        settings: ToolSettings | None = None,
        session_ttl: float = 900.0,
        max_sessions: int = 8,
    ) -> None:
        self._own_client = client is None
        self.client = client or SmoothClient(api_key=api_key, base_url=base_url)
        self.settings = settings or ToolSettings()
        self.settings.embedded = self.client.embedded
        self.sessions = SessionRegistry(self.client.async_client, ttl=session_ttl, max_sessions=max_sessions)
        self._reaper_started = False
        self._lock = threading.Lock()
        self.closed = False

    def _context(self, progress: ProgressSink, custom_tools: Sequence[CustomTool]) -> ToolContext:
        return ToolContext(
            client=self.client.async_client,
            sessions=self.sessions,
            settings=self.settings,
            progress=progress,
            custom_tools=custom_tools,
        )

    async def _invoke(
        self,
        definition: ToolDefinition[Any, Any],
        parsed: Any,
        progress: ProgressSink,
        custom_tools: Sequence[CustomTool],
    ) -> Any:
        if not self._reaper_started:
            self._reaper_started = True
            self.sessions.start_reaper()  # abandoned sessions expire
        return await definition.invoke_parsed(self._context(progress, custom_tools), parsed)

    def run(
        self,
        definition: ToolDefinition[Any, Any],
        parsed: Any,
        progress: ProgressSink,
        custom_tools: Sequence[CustomTool] = (),
    ) -> Any:
        self._check_open()
        return self.client.call(self._invoke, definition, parsed, progress, custom_tools)

    async def arun(
        self,
        definition: ToolDefinition[Any, Any],
        parsed: Any,
        progress: ProgressSink,
        custom_tools: Sequence[CustomTool] = (),
    ) -> Any:
        self._check_open()
        future = self.client.submit(self._invoke, definition, parsed, progress, custom_tools)
        # Cancelling this await cancels the call on the client's loop (and so the remote task).
        return await asyncio.wrap_future(future)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("These Smooth tools were closed; make a new SmoothToolkit.")

    def close(self) -> None:
        """Close every session the tools opened, then the client if the runtime made it."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self.client.call(self.sessions.close_all)
        if self._own_client:
            self.client.close()
