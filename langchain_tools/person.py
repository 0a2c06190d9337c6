"""The person behind a LangChain tool call, reached by callbacks (the core's ``Person``).

``on_handoff(link, message)`` is called when the browser goes to a person (smooth_session_handoff,
or the task's agent calling ``hand_over``): it tells them (smooth_session_handoff's default prints
the link and the message on stderr), or pauses the app (a LangGraph ``interrupt``). The tool or
the task then waits for the person to press Done in the live view. ``on_question(question)``
answers the task's agent's ``ask_person`` (None: declined). Both run in the context of the tool
call that made them, so LangGraph's ``interrupt()`` works inside; a coroutine function runs on the
caller's event loop. A task's agent is offered ``hand_over`` only when ``on_handoff`` was given,
and ``ask_person`` only when ``on_question`` was. A callback cannot say when a person is done on a
view that sends no signal (the Smooth cloud): the model is then told to ask them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from smooth_agents.person import AskAnswer, HandOverAnswer

HandoffCallback = Callable[[str, str], Any]
QuestionCallback = Callable[[str], Any]


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

    def __init__(
        self,
        on_handoff: HandoffCallback | None,
        loop: asyncio.AbstractEventLoop | None,
        on_question: QuestionCallback | None = None,
    ) -> None:
        self._callback: HandoffCallback = on_handoff or print_handoff
        self._given_handoff = on_handoff is not None
        self._on_question = on_question
        self._context = contextvars.copy_context()  # the tool call's (LangGraph's config lives there)
        self._loop = loop  # the caller's loop, for a coroutine callback

    @property
    def can_ask(self) -> bool:
        return self._on_question is not None

    @property
    def can_hand_over(self) -> bool:
        # A task's agent waits minutes for a hand-back: only where the app said how to reach someone.
        return self._given_handoff

    async def ask(self, question: str) -> tuple[AskAnswer, str]:
        if self._on_question is None:
            return "unsupported", ""
        answer = await self._call(self._on_question, question)
        return ("declined", "") if answer is None else ("answered", str(answer))

    async def hand_over(self, link: str, message: str, handoff_id: str) -> HandOverAnswer:
        await self._call(self._callback, link, message)
        return "accepted"

    async def _call(self, callback: Callable[..., Any], *args: Any) -> Any:
        if inspect.iscoroutinefunction(callback):
            return await self._on_caller_loop(callback, *args)
        return await asyncio.to_thread(self._context.run, callback, *args)

    async def _on_caller_loop(self, callback: Callable[..., Any], *args: Any) -> Any:
        loop = self._loop or asyncio.get_running_loop()
        ended: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def start() -> None:
            called: Coroutine[Any, Any, Any] = callback(*args)
            task = loop.create_task(called, context=self._context)
            task.add_done_callback(lambda t: _copy(t, ended))

        if loop is asyncio.get_running_loop():
            start()
        else:
            loop.call_soon_threadsafe(start)
        return await asyncio.wrap_future(ended)

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
