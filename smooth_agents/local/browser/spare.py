"""A browser context and page opened as the browser starts, for its first session.

The first page of a fresh Chromium waits for its first renderer process: the first session open
after a start took 427 ms where it takes 301 ms with this spare (a stdio server, the first call
three seconds after the handshake, as a host's user types it). Later opens find Chromium warm,
and a spare opened again after each take measured no faster (255 against 261 ms), so there is one
spare, opened once, right after the browser starts, with the options a plain session asks for (the
desktop device, no profile, no proxy, no allowed_urls). The first session asking for exactly those
takes it (waiting for it if it is still opening: it started earlier than a new one would); any
other session, or one that comes after it was taken or failed to open, opens its own, as before.
An untaken spare is closed with the provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ...cancellation import cancel_and_wait

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page

log = logging.getLogger("smooth_agents.local.browser")

Opened = tuple["BrowserContext", "Page"]


class Spare:
    def __init__(
        self, options: Mapping[str, Any], open_one: Callable[[], Coroutine[Any, Any, Opened]]
    ) -> None:
        self.options = dict(options)
        self._open_one = open_one
        self._pending: asyncio.Task[Opened] | None = None
        self._closed = False

    def prepare(self) -> None:
        """Open the spare in the background (again after a browser restart), unless one is there
        or on its way."""
        if self._pending is None and not self._closed:
            self._pending = asyncio.create_task(self._open_one(), name="smooth-spare-context")
            self._pending.add_done_callback(_report)

    async def take(self, options: Mapping[str, Any]) -> Opened | None:
        """The spare, if it was opened with ``options`` (waited for if still opening: it started
        earlier than a new one would); None otherwise."""
        if self._pending is None or dict(options) != self.options:
            return None
        pending, self._pending = self._pending, None
        try:
            context, page = await pending
        except Exception:  # reported by _report; the session opens its own
            return None
        if page.is_closed():  # the browser went away meanwhile
            return None
        return context, page

    async def aclose(self) -> None:
        """Close the spare, or stop its opening; no refill after this."""
        self._closed = True
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if not pending.done():
            await cancel_and_wait(pending)
        if pending.done() and not pending.cancelled() and pending.exception() is None:
            context, _ = pending.result()
            with contextlib.suppress(Exception):
                await context.close()


def _report(opening: asyncio.Task[Opened]) -> None:
    if not opening.cancelled() and opening.exception() is not None:
        log.info("no spare browser context: %s", opening.exception())
