"""What replicas of one server must remember alike, kept in a store they share.

Several MCP servers behind one load balancer (``smooth-mcp --stateless --state-url redis://...``)
serve the same callers: a session opened through one replica is driven, read on and closed
through another. The browsers and the results live in Smooth; what only the tools know lives
here: who owns each id (and whether it is a session), when each live session was last used (so
that any replica closes one left idle, even one a dead replica opened), and the key each
caller's credential is digested with (so every replica names a caller alike), and the hand-over
each session's person was told of and no call has read yet (so the next call waits for it, on
whichever replica it lands, instead of asking the person again).

Without a store a process's ``SessionRegistry`` keeps all of this in its own memory, as it always
has; with one, the registry writes through to it and asks it about ids it has not seen itself.
``SharedState`` is what the registry needs of a store; ``open_state`` makes one from a URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from ..errors import ToolFailure

if TYPE_CHECKING:
    from .registry import Claim

log = logging.getLogger("smooth_agents.state")

STATE_URL_SCHEMES = ("redis://", "rediss://", "unix://")


class SharedState(Protocol):
    """A store of claims and session use shared by replicas (all times are the store's own, so
    replicas' clocks need not agree)."""

    async def remember(self, task_id: str, claim: Claim, *, first: bool = False) -> Claim:
        """Record ``claim`` for ``task_id`` (live); with ``first``, only if no claim stands, so
        that two replicas attaching one id cannot both win. Returns the claim that stands."""
        ...

    async def recall(self, task_id: str) -> Claim | None:
        """The claim on ``task_id``, if one is kept."""
        ...

    async def ended(self, task_id: str) -> None:
        """``task_id`` has ended: its claim is kept for the idle TTL, then forgotten."""
        ...

    async def touch(self, session_ids: list[str]) -> None:
        """These live sessions were used now."""
        ...

    async def idle_sessions(self, idle_for: float) -> list[str]:
        """The live sessions nobody has used for ``idle_for`` seconds, through any replica."""
        ...

    async def take_idle(self, session_id: str, idle_for: float) -> bool:
        """True for the one caller that takes an idle session to close it (False when another
        replica took it first, or it was used meanwhile)."""
        ...

    async def sessions_of(self, owner: str) -> dict[str, float]:
        """The live sessions of ``owner`` (through any replica), with the seconds since each was
        last used."""
        ...

    async def owner_key(self) -> bytes:
        """A secret every replica sharing the store reads alike (made by the first to ask)."""
        ...

    async def note_hand_over(self, session_id: str, event_id: str | None, keep_for: float) -> None:
        """The hand-over of ``session_id`` a person was told of and no call has read yet (its
        event id), kept ``keep_for`` seconds at most; None: it has been read, forget it."""
        ...

    async def noted_hand_over(self, session_id: str) -> str | None:
        """The event id of the hand-over of ``session_id`` a person was told of and no call has
        read yet, through whichever replica it began."""
        ...

    async def aclose(self) -> None: ...


def open_state(url: str, *, ttl: float) -> SharedState:
    """The store at ``url`` (Redis: ``redis://``, ``rediss://`` or ``unix://``); ``ttl`` is the
    idle TTL of sessions, which ended claims are kept for."""
    if not url.startswith(STATE_URL_SCHEMES):
        raise ValueError(
            "the state URL must start with redis://, rediss:// or unix:// (a Redis server the replicas share)"
        )
    try:
        from .state_redis import RedisState
    except ImportError as exc:  # the extra is missing
        raise ValueError(
            f"a Redis state URL needs redis-py: pip install 'smooth-agents[redis]' ({exc})"
        ) from None
    return RedisState(url, ttl=ttl)


UNREACHABLE = (
    "The shared state store of this server could not be reached, so other replicas may not know "
    "of this call's sessions and tasks; try again shortly (the server's log has the reason)."
)


class StateUnreachable(ToolFailure):
    """The store did not answer (its reason is logged, never its URL)."""

    def __init__(self) -> None:
        super().__init__(UNREACHABLE)


class Writes:
    """Writes to the store made one after another in the order they were asked for, by code that
    cannot wait (a sync method); ``settle`` waits for all asked so far and reports a failure."""

    def __init__(self) -> None:
        self._tail: asyncio.Future[None] | None = None
        self._failed = False

    def put(self, write: Callable[[], Awaitable[object]]) -> None:
        previous = self._tail

        async def after() -> None:
            if previous is not None:
                await previous  # never raises: each write catches its own failure
            try:
                await write()
            except Exception as exc:
                # The reason only (an address at most): a store URL's password is never logged.
                log.debug("shared state write failed: %s", type(exc).__name__)
                self._failed = True

        self._tail = asyncio.ensure_future(after())

    async def settle(self) -> None:
        """Wait for every write asked so far; a ``ToolFailure`` if one failed since the last
        settle."""
        tail = self._tail
        if tail is not None:
            await asyncio.shield(tail)
            if self._tail is tail:
                self._tail = None
        if self._failed:
            self._failed = False
            raise StateUnreachable
