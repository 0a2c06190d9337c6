"""Handing a session's browser to a person, and back (the ``hand_over`` browser action).

While a hand-over is pending, the session's worker waits in it (the actions sent meanwhile wait
their turn), and the live view shows its message, the page under the person's control and a
"Done" button. It ends when the person presses Done, when its time runs out, when the client
cancels it (``cancel_hand_over``) or closes the session; its answer is then the page as it is.
Neither the person's input nor anything they type passes through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..browser.session import BrowserSession
from ..errors import ActionFailed
from .seam import AgentContext

HandOverEnd = Literal["done", "timeout", "cancelled", "closed"]


@dataclass
class HandOver:
    """One pending hand-over: what the person is asked, and until when (unix seconds)."""

    action_id: str | None
    message: str
    deadline: float
    ended: asyncio.Future[HandOverEnd] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "deadline": self.deadline}


class HandOvers:
    """A session's hand-overs: the pending one, and those accepted but not yet started (a cancel
    that arrives first ends them before they begin)."""

    def __init__(self) -> None:
        self.pending: HandOver | None = None
        self._queued: set[str] = set()
        self._cancelled: set[str] = set()
        # Called on every change (the live view shows the pending hand-over).
        self.on_change: Callable[[], None] = lambda: None

    def expect(self, action_id: str) -> None:
        """A hand-over action was accepted and waits its turn."""
        self._queued.add(action_id)

    def cancel(self, reason: HandOverEnd = "cancelled") -> bool:
        """End the pending hand-over and those waiting their turn; True when there was one."""
        ended = self._end(reason)
        waiting = bool(self._queued)
        self._cancelled |= self._queued
        self._queued.clear()
        return ended or waiting

    def hand_back(self) -> bool:
        """The person is done; True when a hand-over was pending."""
        return self._end("done")

    async def wait(self, action_id: str | None, message: str, timeout: float) -> HandOverEnd:
        """Hand the browser over and wait until it is handed back (or the hand-over ends)."""
        if action_id is not None:
            self._queued.discard(action_id)
            if action_id in self._cancelled:
                self._cancelled.discard(action_id)
                return "cancelled"
        pending = HandOver(action_id, message, time.time() + timeout)
        self.pending = pending
        self.on_change()
        try:
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(pending.ended), timeout)
            return "timeout"
        finally:
            if self.pending is pending:
                self.pending = None
                self.on_change()

    def _end(self, reason: HandOverEnd) -> bool:
        pending = self.pending
        if pending is None or pending.ended.done():
            return False
        pending.ended.set_result(reason)
        return True


async def page_report(browser: BrowserSession, metadata: Mapping[str, Any], max_chars: int) -> dict[str, Any]:
    """The page as it is now: its address, title and readable text (as a task reading it gets
    it), the text cut to ``max_chars`` with a word saying so."""
    page = browser.page
    title = ""
    with contextlib.suppress(Exception):  # a page navigating or closing
        title = await page.title()
    try:
        text = await AgentContext(task="", browser=browser, metadata=metadata).read_page()
    except ActionFailed as exc:
        text = f"(the page could not be read: {exc})"
    report: dict[str, Any] = {"url": page.url, "title": title, "text": text[:max_chars]}
    if len(text) > max_chars:
        report["text_cut_at"] = max_chars
        report["text_chars"] = len(text)
    return report
