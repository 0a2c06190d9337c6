"""The background loop that ends what callers left idle (sessions, crawl jobs): one per registry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..cancellation import cancel_and_wait

log = logging.getLogger("smooth_agents.tools")


class Reaper:
    """Calls ``reap`` every ``interval`` seconds until stopped; a failed round is logged and the
    loop goes on (one bad close must not leave everything else to live forever)."""

    def __init__(self, reap: Callable[[], Awaitable[Any]], what: str) -> None:
        self._reap = reap
        self._what = what
        self._task: asyncio.Task[None] | None = None

    def start(self, interval: float) -> None:
        """Start the loop, unless it runs already."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._forever(interval))

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self._reap()
            except Exception:
                log.exception("%s reaper", self._what)
