"""Opening what the browser makes (a context) so that a cancellation cannot orphan it.

The browser goes on making what it was asked for when the caller is cancelled meanwhile: a
context then exists in Chromium, held by nobody and listed nowhere on our side, until the server
shuts down (a task cancelled as its browser opens, for one: a start cut short now cancels its
task at once). ``kept_or_closed`` lets the making finish and closes what it made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger("smooth_agents.local.browser")

T = TypeVar("T")

# The closings under way of things made for callers that were cancelled (kept referenced).
_closing: set[asyncio.Task[None]] = set()


async def kept_or_closed(making: Coroutine[Any, Any, T], close: Callable[[T], Awaitable[object]]) -> T:
    """``await making``; if the caller is cancelled meanwhile, what it makes is closed once made."""
    made = asyncio.ensure_future(making)
    try:
        return await asyncio.shield(made)
    except asyncio.CancelledError:
        closing = asyncio.get_running_loop().create_task(_close_once_made(made, close))
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)
        raise


async def _close_once_made(made: asyncio.Future[T], close: Callable[[T], Awaitable[object]]) -> None:
    await asyncio.wait({made})
    if made.cancelled() or made.exception() is not None:
        return  # nothing was made: nothing to close
    try:
        await close(made.result())
    except Exception as exc:  # its browser went away meanwhile: closed with it
        log.debug("closing what a cancelled caller had opened: %s", exc)
