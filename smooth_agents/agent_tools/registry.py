"""The sessions this process opened: found by their Smooth id, closed when idle or at shutdown.

``SessionRegistry`` is the seam for state shared across replicas: the in-memory one here keeps
the live handles of this process; a session opened elsewhere (another replica behind the same
load balancer) is attached on first use, since its state lives in Smooth.

Each session has an owner: the caller that opened (or first attached) it. One server can serve
several callers (MCP clients over HTTP); each sees, uses and closes only its own sessions, and a
session of another owner is answered as unknown, so its existence is not disclosed either. A
process with one caller (stdio, a LangChain toolkit) uses the default owner throughout.

Ownership is never forgotten while a session lives here, nor while a task lives as far as this
process knows. Once ended, an id stays its owner's among that owner's latest ended ids: each
owner's memory is bounded on its own, so no caller, however many ids it makes, pushes out
another's.

With a ``SharedState`` (``state_store``: replicas behind one load balancer), every claim and end
is also written there (before the call that made it answers), an id not seen here is looked up
there before it is attached or judged, and idle sessions are closed by whichever replica finds
them idle in the store, however they were used.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import NotFoundError, SmoothError, ToolFailure
from .reaper import Reaper
from .state_store import Writes

if TYPE_CHECKING:
    from ..client import AsyncSmoothClient
    from ..session import AsyncSession
    from .state_store import SharedState

log = logging.getLogger("smooth_agents.sessions")

# Ended ids remembered per owner (and tasks not seen to end: see ``SessionRegistry.claim``).
REMEMBERED_PER_OWNER = 10_000


@dataclass
class TrackedSession:
    session: AsyncSession
    opened_at: float
    last_used: float
    busy: int = 0  # calls in progress: a busy session is never idle
    owner: str = ""

    @property
    def idle_seconds(self) -> float:
        return 0.0 if self.busy else time.monotonic() - self.last_used


class Claim(NamedTuple):
    """What is remembered of an id seen here: who owns it, and whether it is a browser session
    (the service itself does not say: a session is a task created without one)."""

    owner: str
    session: bool


class Listed(NamedTuple):
    """An open session as smooth_session_list shows it."""

    session_id: str
    live_url: str | None
    idle_seconds: float


@dataclass
class _Owned:
    """One owner's ids, each oldest first: those live (its sessions, and its tasks not seen to
    end) and those ended."""

    live: OrderedDict[str, None] = field(default_factory=OrderedDict)
    ended: OrderedDict[str, None] = field(default_factory=OrderedDict)


class SessionRegistry:
    def __init__(
        self,
        client: AsyncSmoothClient,
        *,
        ttl: float = 900.0,
        max_sessions: int = 8,
        remembered: int = REMEMBERED_PER_OWNER,
        shared: SharedState | None = None,
    ) -> None:
        if ttl <= 0 or max_sessions < 1 or remembered < 1:
            raise ValueError("ttl must be positive, max_sessions and remembered at least 1")
        self.client = client
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.remembered = remembered
        self._sessions: dict[str, TrackedSession] = {}
        # Who owns each id seen here (sessions, and tasks the tools started) and what it is, kept
        # after the session is forgotten so a closed session or a finished task stays its owner's;
        # and each owner's ids, by which they are bounded (see ``claim`` and ``ended``).
        self._owners: dict[str, Claim] = {}
        self._owned: dict[str, _Owned] = {}
        self._reaper = Reaper(self.reap, "session")
        self._opening = 0  # slots reserved by opens still in flight
        self._lock = asyncio.Lock()
        self.shared = shared
        self._writes = Writes()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def claim(self, task_id: str, owner: str = "", *, session: bool) -> None:
        """Record ``owner`` as the owner of a task or (``session``) a browser session it started,
        live until ``ended`` says otherwise."""
        self._claim_here(task_id, owner, session)
        if self.shared is not None:
            self._writes.put(functools.partial(self.shared.remember, task_id, Claim(owner, session)))

    def _claim_here(self, task_id: str, owner: str, session: bool) -> None:
        previous = self._owners.get(task_id)
        if previous is not None and previous.owner != owner:
            # The tools check an id's owner before they claim it: this is a new id, reused.
            self._forget(task_id)
        self._owners[task_id] = Claim(owner, session)
        owned = self._owned.setdefault(owner, _Owned())
        owned.ended.pop(task_id, None)
        owned.live[task_id] = None
        owned.live.move_to_end(task_id)
        if len(owned.live) > self.remembered:
            # A task whose end this process never saw (one left running, then never asked after)
            # counts as live; past the bound its owner's oldest such is taken to have ended (a
            # task runs minutes, not the time its owner takes to start that many more). A session
            # held here is never forgotten.
            oldest = next((t for t in owned.live if t not in self._sessions), None)
            if oldest is not None:
                self._forget(oldest)

    def ended(self, task_id: str) -> None:
        """The session or task ``task_id`` has ended: it stays its owner's among that owner's
        latest ``remembered`` ended ids. A session still held here ends when it is let go."""
        claim = self._owners.get(task_id)
        if claim is None or task_id in self._sessions:
            return
        owned = self._owned[claim.owner]
        owned.live.pop(task_id, None)
        owned.ended[task_id] = None
        owned.ended.move_to_end(task_id)
        while len(owned.ended) > self.remembered:
            self._forget(next(iter(owned.ended)))
        if self.shared is not None:
            self._writes.put(functools.partial(self.shared.ended, task_id))

    async def _recall(self, task_id: str) -> None:
        """Learn what the shared state knows of an id not seen here."""
        if self.shared is not None and task_id not in self._owners:
            claim = await self.shared.recall(task_id)
            if claim is not None and task_id not in self._owners:
                self._claim_here(task_id, claim.owner, claim.session)

    async def confirm_owner(self, task_id: str, owner: str = "") -> None:
        """``check_owner``, knowing what every replica sharing the state knows of ``task_id``."""
        await self._recall(task_id)
        self.check_owner(task_id, owner)

    async def settle(self) -> None:
        """Wait until the shared state holds every claim and end made so far (a ``ToolFailure``
        if it could not be written); nothing to wait for without one."""
        if self.shared is not None:
            await self._writes.settle()

    def _forget(self, task_id: str) -> None:
        claim = self._owners.pop(task_id)
        owned = self._owned[claim.owner]
        owned.live.pop(task_id, None)
        owned.ended.pop(task_id, None)
        if not owned.live and not owned.ended:
            del self._owned[claim.owner]

    def _owner_of(self, task_id: str, default: str) -> str:
        claim = self._owners.get(task_id)
        return default if claim is None else claim.owner

    def check_owner(self, task_id: str, owner: str = "") -> None:
        """Refuse an id another owner holds, in the words used for an id never seen."""
        if self._owner_of(task_id, owner) != owner:
            raise _unknown(task_id)

    def is_session(self, task_id: str) -> bool:
        """True for an id opened (or driven) here as a browser session, False for a task the
        tools started or an id never seen here."""
        claim = self._owners.get(task_id)
        return claim is not None and claim.session

    async def open(self, *, owner: str = "", **options: Any) -> AsyncSession:
        async with self._lock:  # the count and the reservation happen together
            live = self.open_sessions()
            if len(live) + self._opening >= self.max_sessions:
                raise self._full(len(live) + self._opening, [t for t in live if t.owner == owner])
            self._opening += 1
        try:
            session: AsyncSession = await self.client.session(**options)
        finally:
            self._opening -= 1
        self._track(session, owner)
        return session

    def _track(self, session: AsyncSession, owner: str, *, share: bool = True) -> None:
        now = time.monotonic()
        self._sessions[session.id] = TrackedSession(session, now, now, owner=owner)
        if share:
            self.claim(session.id, owner, session=True)
        else:
            self._claim_here(session.id, owner, True)

    def _full(self, count: int, own: list[TrackedSession]) -> ToolFailure:
        said = f"{count} sessions are open, the most this server allows."
        if not own:  # the others' ids are theirs: not named
            return ToolFailure(
                f"{said} None of the open ones is yours (yours may still be opening); try again "
                "once one is closed (smooth_session_close closes yours)."
            )
        oldest = min(own, key=lambda t: t.last_used).session.id
        return ToolFailure(
            f"{said} Close one with smooth_session_close (your least recently used is {oldest})."
        )

    @contextlib.asynccontextmanager
    async def use(self, session_id: str, owner: str = "") -> AsyncIterator[AsyncSession]:
        """A session for the length of one call: not idle while in use, fresh when done."""
        session = await self.get(session_id, owner)
        tracked = self._sessions.get(session.id)
        if tracked is not None:
            tracked.busy += 1
        try:
            yield session
        finally:
            if tracked is not None:
                tracked.busy -= 1
                tracked.last_used = time.monotonic()
                if self.shared is not None:
                    self._writes.put(functools.partial(self.shared.touch, [session.id]))

    async def get(self, session_id: str, owner: str = "") -> AsyncSession:
        await self._recall(session_id)
        self.check_owner(session_id, owner)
        tracked = self._sessions.get(session_id)
        if tracked is not None:
            if tracked.session.closed:
                raise ToolFailure(
                    f"Session {session_id} is closed. Call smooth_session_open to start a new one."
                )
            tracked.last_used = time.monotonic()
            return tracked.session
        # Claimed before the wait, so two callers attaching the same id cannot both win.
        first_claim = session_id not in self._owners
        if self.shared is None:
            self.claim(session_id, owner, session=True)
        elif first_claim:
            # Nor two replicas: the claim the shared state keeps is the one that stands.
            standing = await self.shared.remember(session_id, Claim(owner, True), first=True)
            self._claim_here(session_id, standing.owner, standing.session)
            self.check_owner(session_id, owner)
        else:  # the shared state holds its claim already (recalled, or made here): left as it is
            self._claim_here(session_id, owner, True)
        try:
            session = await self.client.attach_session(session_id)
        except NotFoundError:
            if first_claim:
                self._forget(session_id)
                if self.shared is not None:
                    self._writes.put(functools.partial(self.shared.ended, session_id))
            raise _unknown(session_id) from None
        self._track(session, owner, share=False)  # its claim stands: an ended one stays ended
        return session

    async def close(self, session_id: str, owner: str = "", *, force: bool = False) -> bool:
        """Close a session; False when it was not open (closed already, unknown, or another
        owner's). ``force`` ends it at once, without waiting for an action under way (and so
        without saving its profile)."""
        await self._recall(session_id)
        if self._owner_of(session_id, owner) != owner:
            return False
        tracked = self._sessions.get(session_id)
        if tracked is None:
            try:
                cancelled = await self.client.cancel_task(session_id)
            except NotFoundError:
                cancelled = False
            self.ended(session_id)
            return cancelled
        was_open = not tracked.session.closed
        await self._close_tracked(session_id, tracked, force=force)
        return was_open

    async def _close_tracked(self, session_id: str, tracked: TrackedSession, *, force: bool = False) -> None:
        """Close, then forget: while the close is under way the session is still known here (and
        its owner's), so nothing can attach it or lose sight of it."""
        try:
            await tracked.session.close(force=force)
        finally:
            if self._sessions.get(session_id) is tracked:
                del self._sessions[session_id]
                self.ended(session_id)

    def open_sessions(self, owner: str | None = None) -> list[TrackedSession]:
        """The sessions holding a slot: all of them, or those of one owner."""
        # Ended sessions (closed here, or seen to end remotely) hold no slot; the reaper forgets
        # them, sending a close where this process did not close them itself.
        return [
            t
            for t in self._sessions.values()
            if not (t.session.closed and not t.busy) and owner in (None, t.owner)
        ]

    async def listed(self, owner: str = "") -> list[Listed]:
        """The open sessions of ``owner``: those held here, and with shared state those opened or
        used through other replicas too (their idle time the least any replica saw)."""
        held = self.open_sessions(owner)
        if self.shared is None:
            return [Listed(t.session.id, t.session.live_url, t.idle_seconds) for t in held]
        idle = await self.shared.sessions_of(owner)
        shown = [
            Listed(
                t.session.id, t.session.live_url, min(t.idle_seconds, idle.get(t.session.id, t.idle_seconds))
            )
            for t in held
        ]
        here = {t.session.id for t in held} | set(self._sessions)
        for session_id, seconds in idle.items():
            if session_id in here:
                continue
            with contextlib.suppress(NotFoundError):
                task = await self.client.get_task(session_id)
                if task.active:
                    shown.append(Listed(session_id, task.live_url, seconds))
        return shown

    async def _close_quietly(self, sessions: list[tuple[str, TrackedSession]]) -> None:
        async def close_one(session_id: str, tracked: TrackedSession) -> None:
            with contextlib.suppress(SmoothError):
                await self._close_tracked(session_id, tracked)

        await asyncio.gather(*(close_one(sid, t) for sid, t in sessions))

    async def reap(self) -> list[str]:
        """Close sessions idle for longer than the TTL; return their ids."""
        if self.shared is not None:
            return await self._reap_shared(self.shared)
        expired = [
            (sid, t)
            for sid, t in self._sessions.items()
            if not t.busy and (t.idle_seconds > self.ttl or t.session.closed)
        ]
        for session_id, tracked in expired:
            if not tracked.session.closed:
                log.info("closing idle session %s after %.0f s", session_id, tracked.idle_seconds)
        # Also for a session whose polling gave up: close() then deletes it remotely, so a
        # session this process lost sight of does not run on (a no-op once closed here).
        await self._close_quietly(expired)
        return [session_id for session_id, _ in expired]

    async def _reap_shared(self, shared: SharedState) -> list[str]:
        """Close the sessions idle for longer than the TTL through every replica, whoever opened
        them (one that a stopped replica opened too); forget those seen to end here."""
        # A call in progress here keeps its session in use for every replica.
        await shared.touch([sid for sid, t in self._sessions.items() if t.busy])
        closing = [(sid, t) for sid, t in self._sessions.items() if not t.busy and t.session.closed]
        elsewhere: list[str] = []
        for session_id in await shared.idle_sessions(self.ttl):
            if not await shared.take_idle(session_id, self.ttl):
                continue  # another replica took it, or it was used meanwhile
            log.info("closing idle session %s after %.0f s", session_id, self.ttl)
            tracked = self._sessions.get(session_id)
            if tracked is None:
                elsewhere.append(session_id)
            elif not tracked.session.closed:
                closing.append((session_id, tracked))
        await self._close_quietly(closing)
        for session_id in elsewhere:
            with contextlib.suppress(SmoothError):
                await self.client.cancel_task(session_id)
            await shared.ended(session_id)
        await self._writes.settle()
        return [session_id for session_id, _ in closing] + elsewhere

    def start_reaper(self, interval: float | None = None) -> None:
        self._reaper.start(interval or min(30.0, self.ttl / 4))

    async def close_all(self) -> None:
        """Stop the reaper and close every session this process holds, all at once."""
        await self._reaper.stop()
        await self._close_quietly(list(self._sessions.items()))
        self._sessions.clear()

    async def let_go_all(self) -> None:
        """Stop the reaper and stop following every session held here, leaving them open: they
        live in a server shared with later processes, which drive them by id (the server closes
        them when idle)."""
        await self._reaper.stop()
        for tracked in list(self._sessions.values()):
            await tracked.session.let_go()
        self._sessions.clear()


def _unknown(session_id: str) -> ToolFailure:
    return ToolFailure(
        f"Unknown session {session_id!r}. Call smooth_session_open for a new one, or "
        "smooth_session_list to see the open ones."
    )
