"""The state of one task or session: status, output and its event log.

Event timestamps are unix milliseconds and strictly increasing within a task, so a client that
polls with ``event_t`` set to the last timestamp it saw never misses an event that landed in
the same millisecond.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ...protocol import ACTIVE_STATUSES, TaskStatus, new_event_id
from ..agents.handover import HandOvers
from ..browser.session import BrowserSession
from ..files.task_files import TaskFiles
from ..jsonsafe import json_safe
from ..schemas import TaskRequest


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class TaskEvent:
    id: str | None
    name: str
    payload: dict[str, Any]
    timestamp: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "payload": self.payload, "timestamp": self.timestamp}


@dataclass
class QueuedAction:
    """A client event waiting for the session's worker (``id`` None: internal, no result event)."""

    id: str | None
    event_name: str
    action: str
    input: Any


@dataclass
class Task:
    id: str
    request: TaskRequest
    is_session: bool
    live_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    status: TaskStatus = "waiting"
    output: Any = None
    created_at: int = field(default_factory=lambda: int(time.time()))
    events: list[TaskEvent] = field(default_factory=list)
    browser: BrowserSession | None = None
    # Its downloads, screenshots, PDFs and recording (see task_files).
    files: TaskFiles | None = None
    actions: asyncio.Queue[QueuedAction] = field(default_factory=asyncio.Queue)
    tool_calls: dict[str, asyncio.Future[tuple[int, Any]]] = field(default_factory=dict)
    runner: asyncio.Task[None] | None = None
    # Its browser being let go (see LocalRuntime._release_browser): once, whoever asks.
    releasing: asyncio.Task[None] | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    # Why no browser took the task (a pool full or out, found as its context opened), with the
    # status that says so: a session's open answers with it rather than as a bad request.
    refused: tuple[str, int] | None = None
    last_activity: float = field(default_factory=time.monotonic)
    busy: bool = False
    finished_at: float | None = None  # monotonic; finished tasks are forgotten after a while
    # Set once a poll has carried the result of a graceful close (see LocalRuntime._serve_session).
    close_event_id: str | None = None
    # Client event ids already accepted, and tool calls already answered: a retried POST of
    # either is acknowledged again without doing anything twice.
    accepted_event_ids: set[str] = field(default_factory=set)
    # What each client action (by event id) was: its name and what it acted on (the live view
    # names them; their result events carry only a code and an output).
    client_actions: dict[str, tuple[str, str]] = field(default_factory=dict)
    answered_tool_calls: dict[str, tuple[int, Any]] = field(default_factory=dict)
    close_delivered: asyncio.Event = field(default_factory=asyncio.Event)
    # The browser handed to a person at the live view (the hand_over action), pending or queued.
    hand_overs: HandOvers = field(default_factory=HandOvers)
    _last_timestamp: int = 0
    # Replaced by a fresh Event on every change; long-polling readers wait on the current one.
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.hand_overs.on_change = self._notify

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def changed(self) -> asyncio.Event:
        """Set at the task's next change (an event, its status, a hand-over): a watcher takes it
        before it reads the task, then waits on it."""
        return self._changed

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def emit(self, name: str, payload: dict[str, Any], event_id: str | None = None) -> TaskEvent:
        timestamp = max(now_ms(), self._last_timestamp + 1)
        self._last_timestamp = timestamp
        event = TaskEvent(event_id or new_event_id(), name, json_safe(payload), timestamp)
        self.events.append(event)
        self._notify()
        return event

    def mark_running(self) -> None:
        self.status = "running"
        self._notify()  # long polls waiting on this task hear of the change

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_news(
        self, event_t: int | None, seconds: float, known_status: str | None = None
    ) -> None:
        """Return once there is an event after ``event_t``, the status differs from
        ``known_status`` (what the caller last saw), the task is final, or ``seconds`` pass."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.active and (known_status is None or self.status == known_status):
            if self.events and self.events[-1].timestamp > (event_t or 0):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return

    def events_after(self, event_t: int | None) -> list[TaskEvent]:
        if event_t is None:
            found = list(self.events)
        else:
            # Events are appended in timestamp order: scan back from the end.
            start = len(self.events)
            while start > 0 and self.events[start - 1].timestamp > event_t:
                start -= 1
            found = self.events[start:]
        return found

    def note_delivered(self, events: list[dict[str, Any]]) -> None:
        """A GET /task/{id} answer carried these events: release a graceful close waiting on it."""
        if self.close_event_id is not None and any(e["id"] == self.close_event_id for e in events):
            self.close_delivered.set()

    def finish(self, status: TaskStatus, output: Any) -> bool:
        """Move to a final status once; later calls change nothing and return False."""
        if not self.active:
            return False
        self.status = status
        self.output = json_safe(output)
        self.finished_at = time.monotonic()
        for future in self.tool_calls.values():
            if not future.done():
                future.cancel()
        self.tool_calls.clear()
        self.opened.set()
        self._notify()
        return True

    def as_json(
        self,
        *,
        live_url: str | None,
        event_t: int | None,
        downloads_url: str | None,
        recording_url: str | None,
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "output": self.output,
            "credits_used": 0,
            "device": self.request.device,
            "live_url": live_url,
            "recording_url": recording_url,
            "downloads_url": downloads_url,
            "created_at": self.created_at,
            "events": [e.as_json() for e in self.events_after(event_t)],
        }
