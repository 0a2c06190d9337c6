"""The person behind a LangChain tool call, reached by a callback (the core's ``Person``).

``on_handoff(link, message)`` is called when smooth_session_handoff gives the browser to a person:
it tells them (the default prints the link and the message on stderr), or pauses the app (a
LangGraph ``interrupt``). It runs in the context of the tool call that made it, so LangGraph's
``interrupt()`` works inside it; a coroutine function runs on the caller's event loop. The tool
then waits for the person to press Done in the live view. A callback cannot say when a person is
done on a view that sends no signal (the Smooth cloud): the model is then told to ask them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from smooth_agents.agent_tools import HandOverAnswer

HandoffCallback = Callable[[str, str], Any]


def print_handoff(link: str, message: str) -> None:
    """The default ``on_handoff``: the link and what to do there, on stderr."""
    print(
        f"\n[smooth] A person is needed in the browser: {message}\n"
        f"[smooth] Open {link} , do it there, then press Done at the top of the page.\n",
        file=sys.stderr,
        flush=True,
    )


class CallbackPerson:
    """``Person`` over an ``on_handoff`` callback, run where the tool call was made."""

    def __init__(self, on_handoff: HandoffCallback | None, loop: asyncio.AbstractEventLoop | None) -> None:
        self._callback: HandoffCallback = on_handoff or print_handoff
        self._context = contextvars.copy_context()  # the tool call's (LangGraph's config lives there)
        self._loop = loop  # the caller's loop, for a coroutine callback

    async def hand_over(self, link: str, message: str, handoff_id: str) -> HandOverAnswer:
        if inspect.iscoroutinefunction(self._callback):
            await self._on_caller_loop(link, message)
        else:
            await asyncio.to_thread(self._context.run, self._callback, link, message)
        return "accepted"

    async def _on_caller_loop(self, link: str, message: str) -> None:
        loop = self._loop or asyncio.get_running_loop()
        ended: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def start() -> None:
            called: Coroutine[Any, Any, Any] = self._callback(link, message)
            task = loop.create_task(called, context=self._context)
            task.add_done_callback(lambda t: _copy(t, ended))

        if loop is asyncio.get_running_loop():
            start()
        else:
            loop.call_soon_threadsafe(start)
        await asyncio.wrap_future(ended)

    async def confirm_done(self, message: str) -> bool | None:
        return None  # a callback tells the person; it cannot ask them back

    async def done(self, handoff_id: str) -> None:
        return None


def _copy(task: asyncio.Task[Any], into: concurrent.futures.Future[Any]) -> None:
    if task.cancelled():
        into.cancel()
    elif (failure := task.exception()) is not None:
        into.set_exception(failure)
    else:
        into.set_result(task.result())
