"""What every adapter holds while its tools serve: one client, the registry of the sessions the
tools opened, the settings the tools work within, and when all of it is closed.

``ToolRuntime`` is the async runtime (the MCP server runs it on its own loop);
``BlockingToolRuntime`` runs one on a ``SmoothClient``'s private loop for callers that have no
loop of their own, or one they must not block (LangChain's ``_run`` and ``_arun``). The adapters
keep only what their transport needs: how a call arrives, how progress and answers leave.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
from pydantic import BaseModel, SecretStr

from ..cancellation import cancel_and_wait
from ..client import AsyncSmoothClient
from ..custom_tools import CustomTool
from ..errors import ToolFailure
from ..person import Person
from ..sync import ClientLoop, SmoothClient
from .base import ProgressSink, ToolContext, ToolDefinition, ToolSettings, no_progress
from .crawl_jobs import CrawlJobs
from .registry import SessionRegistry
from .state_store import open_state

if TYPE_CHECKING:
    from ..shared_server import SharedLocalServer

log = logging.getLogger("smooth_agents.tools")
P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_SESSION_TTL = 900.0
DEFAULT_MAX_SESSIONS = 8
CLOSED = "These Smooth tools were closed; make new ones (a new SmoothToolkit, a new server)."


class ToolRuntime:
    """One client, its tool sessions, crawl jobs and settings, shared by every tool of one adapter.

    Users are counted (``acquire`` / ``release``: each MCP connection or transport is one): the
    first starts the reaper of abandoned sessions and warms the client up (the local server's
    browser starts while the first caller is still connecting), the last closes every session the
    tools opened and then the client, if the runtime made it (and with it the embedded local server
    and its browser). Sessions that live in a shared local server are let go, not closed: later
    processes drive them. A runtime used without ``acquire`` (a tool called directly) starts its
    reaper on the first call and closes with ``aclose``.

    ``state_url`` (``redis://...``): what replicas must remember alike (ownership, the sessions'
    use) is kept there too (``state_store``); such a runtime lets its sessions go when it closes,
    since other replicas may still drive them (idle ones are closed by any replica's reaper).
    """

    def __init__(
        self,
        client: AsyncSmoothClient | None = None,
        *,
        settings: ToolSettings | None = None,
        session_ttl: float = DEFAULT_SESSION_TTL,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        local_model: Any = None,
        shared_server: SharedLocalServer | None = None,
        state_url: str | None = None,
    ) -> None:
        self._own_client = client is None
        if client is not None and (local_model is not None or shared_server is not None):
            raise ValueError(
                "local_model and shared_server configure the client the tools make; give them to "
                "that client instead."
            )
        self.client = client or AsyncSmoothClient(local_model=local_model, shared_server=shared_server)
        # A copy: the caller's settings object is never written to.
        self.settings = dataclasses.replace(
            settings or ToolSettings(),
            embedded=self.client.embedded,
            embedded_model=self.client.has_local_model,
        )
        shared = open_state(state_url, ttl=session_ttl) if state_url else None
        self.sessions = SessionRegistry(
            self.client, ttl=session_ttl, max_sessions=max_sessions, shared=shared
        )
        self.crawls = CrawlJobs(self.sessions, ttl=session_ttl)
        self._users = 0
        self._lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None
        self.closed = False

    def context(
        self,
        progress: ProgressSink = no_progress,
        *,
        owner: str = "",
        custom_tools: Sequence[CustomTool] = (),
        task_metadata: Mapping[str, Any] | None = None,
        person: Person | None = None,
    ) -> ToolContext:
        return ToolContext(
            client=self.client,
            sessions=self.sessions,
            crawls=self.crawls,
            settings=self.settings,
            progress=progress,
            owner=owner,
            custom_tools=custom_tools,
            task_metadata=task_metadata or {},
            person=person,
        )

    async def invoke(
        self,
        definition: ToolDefinition[Any, Any],
        arguments: Mapping[str, Any] | BaseModel,
        progress: ProgressSink = no_progress,
        *,
        owner: str = "",
        custom_tools: Sequence[CustomTool] = (),
        task_metadata: Mapping[str, Any] | None = None,
        person: Person | None = None,
    ) -> Any:
        """Run one tool: raw arguments (named as on the wire) are validated first; a model is
        taken as already validated."""
        if self.closed:
            raise RuntimeError(CLOSED)
        self.sessions.start_reaper()  # no-ops while they run
        self.crawls.start_reaper()
        context = self.context(
            progress, owner=owner, custom_tools=custom_tools, task_metadata=task_metadata, person=person
        )
        try:
            if isinstance(arguments, BaseModel):
                result = await definition.invoke_parsed(context, arguments)
            else:
                result = await definition.invoke(context, dict(arguments))
        except BaseException:
            with contextlib.suppress(ToolFailure):  # the call's own failure is the one to tell
                await self.sessions.settle()
            raise
        await self.sessions.settle()  # other replicas know what this call claimed before it answers
        return result

    async def owner_key(self) -> bytes | None:
        """The key callers' credentials are digested with when replicas share state (so that each
        names a caller alike); None: this process's own key will do."""
        shared = self.sessions.shared
        return None if shared is None else await shared.owner_key()

    async def acquire(self) -> None:
        async with self._lock:
            self._users += 1
            if self._users == 1:
                self.sessions.start_reaper()
                self.crawls.start_reaper()
                self._warming = asyncio.create_task(self._warm_up(), name="smooth-warm-up")

    async def _warm_up(self) -> None:
        """The client's warm-up, in the background: a failure here is met again, and reported
        with its reason, by the first call that needs what failed."""
        try:
            await self.client.warm_up()
        except Exception as exc:
            log.info("warming up ahead of the first call failed: %s", exc)

    async def release(self) -> None:
        async with self._lock:
            self._users -= 1
            if self._users == 0:
                await self._close()

    async def release_shielded(self, timeout: float = 15.0) -> None:
        """``release`` that completes even while the caller is being cancelled (a signal, a
        client gone): the remote sessions are closed, within ``timeout`` seconds."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(timeout):
            await self.release()

    async def aclose(self, timeout: float = 15.0) -> None:
        """Close every session and the client whoever still uses them (the process is ending, or
        the tools' owner closes them); shielded from cancellation, within ``timeout`` seconds."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(timeout):
            async with self._lock:
                self._users = 0
                self.closed = True
                await self._close()

    async def _close(self) -> None:
        if self._warming is not None:
            await cancel_and_wait(self._warming)
            self._warming = None
        # Crawl jobs end with the tools, even where sessions are let go: nobody is left to read
        # their pages, and ending them closes the sessions they hold.
        await self.crawls.close_all()
        shared = self.sessions.shared
        if self.client.sessions_outlive_client or shared is not None:
            await self.sessions.let_go_all()
        else:
            await self.sessions.close_all()
        if shared is not None:
            with contextlib.suppress(ToolFailure):
                await self.sessions.settle()
            await shared.aclose()
        if self._own_client:
            await self.client.close()


class BlockingToolRuntime:
    """A ``ToolRuntime`` on a ``SmoothClient``'s private event loop.

    ``run`` waits for a tool call; ``arun`` awaits it from the caller's loop without blocking that
    loop (cancelling the await cancels the call, and so the remote task). Sync and async callers
    share sessions: a session opened by one call is used by the next, whichever path each took.
    """

    def __init__(
        self,
        client: SmoothClient | None = None,
        *,
        api_key: SecretStr | str | None = None,
        base_url: str | None = None,
        settings: ToolSettings | None = None,
        session_ttl: float = DEFAULT_SESSION_TTL,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        local_model: Any = None,
    ) -> None:
        self._own_client = client is None
        if client is not None and local_model is not None:
            raise ValueError(
                "local_model configures the client the tools make; give it to that client instead."
            )
        self.client = client or SmoothClient(api_key=api_key, base_url=base_url, local_model=local_model)
        self._loop = ClientLoop(self.client)
        self.tools = ToolRuntime(
            self._loop.client, settings=settings, session_ttl=session_ttl, max_sessions=max_sessions
        )

    @property
    def settings(self) -> ToolSettings:
        return self.tools.settings

    @property
    def sessions(self) -> SessionRegistry:
        return self.tools.sessions

    @property
    def closed(self) -> bool:
        return self.tools.closed

    def call(self, function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """``await function(*args, **kwargs)`` on the client's loop, waited for here."""
        return self._loop.call(function, *args, **kwargs)

    def run(
        self,
        definition: ToolDefinition[Any, Any],
        arguments: Mapping[str, Any] | BaseModel,
        progress: ProgressSink = no_progress,
        custom_tools: Sequence[CustomTool] = (),
        person: Person | None = None,
    ) -> Any:
        self._check_open()
        return self._loop.call(
            self.tools.invoke, definition, arguments, progress, custom_tools=custom_tools, person=person
        )

    async def arun(
        self,
        definition: ToolDefinition[Any, Any],
        arguments: Mapping[str, Any] | BaseModel,
        progress: ProgressSink = no_progress,
        custom_tools: Sequence[CustomTool] = (),
        person: Person | None = None,
    ) -> Any:
        self._check_open()
        future: concurrent.futures.Future[Any] = self._loop.submit(
            self.tools.invoke, definition, arguments, progress, custom_tools=custom_tools, person=person
        )
        return await asyncio.wrap_future(future)

    def _check_open(self) -> None:
        # Checked here too: a closed runtime's client may have stopped its loop.
        if self.tools.closed:
            raise RuntimeError(CLOSED)

    def close(self) -> None:
        """Close every session the tools opened, then the client if this runtime made it."""
        if self.tools.closed:
            return
        self._loop.call(self.tools.aclose)
        if self._own_client:
            self.client.close()
