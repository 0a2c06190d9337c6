"""Progress of a task on stderr for the CLI: spinner, elapsed time, status, live URL.

On a terminal it is one live line (rich); elsewhere (CI logs, pipes) a plain line per change.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from types import TracebackType

from rich.console import Console
from rich.status import Status

from .models import TaskUpdate


class Progress:
    def __init__(self, label: str, *, quiet: bool = False) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.label = label
        self.quiet = quiet
        self.started = time.monotonic()
        self._status: Status | None = None
        self._last_line = ""
        self._live_url_shown = False

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal:
            self._status = self.console.status(self._text("starting"))
            self._status.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._status is not None:
            self._status.stop()

    def _text(self, status: str) -> str:
        return f"{self.label} · {status} · {time.monotonic() - self.started:.1f} s"

    def show(self, status: str, live_url: str | None = None) -> None:
        if self.quiet:
            return
        if live_url and not self._live_url_shown:
            self._live_url_shown = True
            self.console.print(f"live view: {live_url}", soft_wrap=True)
        if self._status is not None:
            self._status.update(self._text(status))
        elif status != self._last_line:
            self._last_line = status
            print(self._text(status), file=sys.stderr, flush=True)

    async def follow(self, updates: AsyncIterator[TaskUpdate]) -> None:
        async for update in updates:
            event = update.event
            # An agent's step names its action (click, type_text...) in the payload.
            action = event.payload.get("name") if event is not None else None
            shown = f"{event.name} {action}" if event is not None and isinstance(action, str) else None
            step = f"{update.status}" + (f" · {shown or event.name}" if event is not None else "")
            self.show(step, update.live_url)
