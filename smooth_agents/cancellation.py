"""Stopping a background task without swallowing the caller's own cancellation.

The usual idiom, ``task.cancel()`` then ``with suppress(CancelledError): await task``, has a trap:
if whoever runs it is itself cancelled while it waits, the suppress swallows that cancellation
too, and the caller runs on as if nothing had asked it to stop. A loop written that way (a reaper
stopping a task while being shut down) never ends, and whoever waits for it hangs. The client and
the local server both stop tasks this way, so both import this module; it depends on nothing else
of the package.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel_and_wait", "wait_for_end"]


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended, however it ends (see :func:`wait_for_end`)."""
    task.cancel()  # does nothing to a task that has already ended
    await wait_for_end(task)


async def wait_for_end(task: asyncio.Future[Any]) -> None:
    """Wait until ``task`` has ended, however it ends.

    The task's own outcome (its exception, or its cancellation) is consumed here and never
    raised; a cancellation of the caller while it waits is raised, as it must be. The task is left
    to finish on its own in that case, and its outcome is still consumed when it does.
    """
    task.add_done_callback(_consume_outcome)
    if not task.done():
        await asyncio.wait({task})


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    # Reading the exception marks it retrieved: no "exception was never retrieved" at collection.
    if not task.cancelled():
        task.exception()
