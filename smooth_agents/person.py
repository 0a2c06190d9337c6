"""The person behind a call, and a task's way to them: ``ask_person`` and ``hand_over``.

A surface reaches its person its own way (``Person``): an MCP client by elicitation
(``mcp_server.person``), a LangChain app or a script by callbacks (``PersonCallbacks`` here, and
``langchain_tools.person``). ``PersonTools`` turns that reach into two custom tools offered to the
task's agent (the ``tool_call`` round trip every server already has), each only where someone can
answer:

- ``ask_person(question)``: a short answer that is not a secret (a choice, a one-time code), asked
  by a form or a callback. Works on any server: the cloud's agent sees it as a custom tool.
- ``hand_over(message)``: the browser itself. The person is sent to the task's own interactive
  live view (the link is the caller's, never one the agent names, so a page cannot send the person
  elsewhere); the self-hosted server's agent then waits there until they press Done. Offered only
  on a server with the live view's hand-back (not the Smooth cloud).

Secrets are typed by the person in the live view; no tool here carries them.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from .custom_tools import CustomTool
from .errors import ToolError
from .protocol import ASK_PERSON_TOOL, HAND_OVER_TOOL, live_view_link

# What a person asked to take over the browser answered through the host: they went to the link
# ("accepted"), said no ("declined"), dismissed the question ("cancelled"); or this surface has no
# way to ask them ("unsupported": the tool then answers with the link for the model to pass on).
HandOverAnswer = Literal["accepted", "declined", "cancelled", "unsupported"]
# What a person asked a question did: answered it (the text comes with it), or as above.
AskAnswer = Literal["answered", "declined", "cancelled", "unsupported"]

MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 2_000


class Person(Protocol):
    """The way to the person behind a call, which differs by surface. Given in a tool call's
    context, or to ``AsyncSmoothClient.run``; without one, nobody can be asked."""

    @property
    def can_ask(self) -> bool:
        """True when ``ask`` can reach someone (a form, a callback)."""
        ...

    @property
    def can_hand_over(self) -> bool:
        """True when ``hand_over`` can reach someone (a URL elicitation, a callback)."""
        ...

    async def ask(self, question: str) -> tuple[AskAnswer, str]:
        """Ask a short question whose answer is not a secret; the answer and its text."""
        ...

    async def hand_over(self, link: str, message: str, handoff_id: str) -> HandOverAnswer:
        """Send the person to ``link`` (the interactive live view) to do ``message`` there; return
        once they accepted or refused to go (not when they are done). ``handoff_id`` names this
        hand-over in ``done``."""
        ...

    async def confirm_done(self, message: str) -> bool | None:
        """Ask the person whether they are done (where the view sends no hand-back signal): True
        when they say so, False when they decline; None when they cannot be asked."""
        ...

    async def done(self, handoff_id: str) -> None:
        """Tell the host the hand-over it showed has ended (MCP: the URL elicitation completed)."""
        ...


AskCallback = Callable[[str], str | Awaitable[str | None] | None]
HandOverCallback = Callable[[str, str], Any]


class PersonCallbacks:
    """A ``Person`` made of plain functions, for a script: ``ask(question)`` returns the answer
    (None: declined), ``on_handoff(link, message)`` tells the person where to go (it returns once
    they were told; the task waits for their Done in the live view). Either may be a coroutine
    function; a function that blocks (``input()``) runs on a worker thread."""

    def __init__(self, *, ask: AskCallback | None = None, on_handoff: HandOverCallback | None = None) -> None:
        self._ask = ask
        self._on_handoff = on_handoff

    def __repr__(self) -> str:
        return f"PersonCallbacks(ask={self._ask is not None}, on_handoff={self._on_handoff is not None})"

    @property
    def can_ask(self) -> bool:
        return self._ask is not None

    @property
    def can_hand_over(self) -> bool:
        return self._on_handoff is not None

    async def ask(self, question: str) -> tuple[AskAnswer, str]:
        if self._ask is None:
            return "unsupported", ""
        answer = await _called(self._ask, question)
        return ("declined", "") if answer is None else ("answered", str(answer))

    async def hand_over(self, link: str, message: str, handoff_id: str) -> HandOverAnswer:
        if self._on_handoff is None:
            return "unsupported"
        await _called(self._on_handoff, link, message)
        return "accepted"

    async def confirm_done(self, message: str) -> bool | None:
        return None  # a callback tells the person; it cannot ask them back

    async def done(self, handoff_id: str) -> None:
        return None


async def _called(function: Callable[..., Any], *args: Any) -> Any:
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    result = await asyncio.to_thread(function, *args)
    return await result if inspect.isawaitable(result) else result


class PersonTools:
    """``ask_person`` and ``hand_over`` for one task, over ``person``.

    ``started(live_url)`` gives the task's live view once the task exists; ``close()`` ends the
    offer (the call that could reach the person has returned: later calls are answered that nobody
    can be asked) and tells the host that hand-overs it showed have ended."""

    def __init__(self, person: Person, *, hand_over: bool, handoff_timeout: float) -> None:
        self._person = person
        self._offers_hand_over = hand_over and person.can_hand_over
        self._timeout = handoff_timeout
        self._live_url: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._shown: list[str] = []
        self._closed = False

    def tools(self) -> list[CustomTool]:
        offered: list[CustomTool] = []
        if self._person.can_ask:
            offered.append(
                CustomTool(
                    name=ASK_PERSON_TOOL,
                    description=(
                        "Ask the person you work for a short question and get their answer: a "
                        "choice between options, a one-time code they received, a detail only they "
                        "know. Never ask for a password or a card number: for those use hand_over, "
                        "where they type it into the page themselves."
                    ),
                    input_schema=_schema(question="The question, in one or two sentences."),
                    fn=self._ask,
                    output_description="The person's answer as text.",
                    essential=False,
                )
            )
        if self._offers_hand_over:
            offered.append(
                CustomTool(
                    name=HAND_OVER_TOOL,
                    description=(
                        "Give the browser to the person you work for, to do what only they can "
                        "(sign in, a one-time code, a CAPTCHA, a confirmation): they see the page "
                        "in the live view with your message, act in it, and hand it back."
                    ),
                    input_schema=_schema(message="What the person should do in the browser."),
                    fn=self._hand_over,
                    output_description="Whether the person took the browser, and how long they have.",
                    essential=False,
                )
            )
        return offered

    def started(self, live_url: str | None) -> None:
        if not self._live_url.done():
            self._live_url.set_result(live_url)

    async def close(self) -> None:
        self._closed = True
        self.started(None)
        shown, self._shown = self._shown, []
        for handoff_id in shown:
            await self._person.done(handoff_id)

    def _check_open(self) -> None:
        if self._closed:
            raise ToolError(
                "Nobody can be asked any more: the call that started this task has returned. "
                "Carry on without the person, or finish saying what they need to do."
            )

    async def _ask(self, question: str) -> dict[str, str]:
        self._check_open()
        if len(question) > MAX_QUESTION_CHARS:
            raise ToolError(f"The question is longer than {MAX_QUESTION_CHARS} characters: shorten it.")
        what, answer = await self._person.ask(question)
        if what != "answered":
            raise ToolError(_NOT_ANSWERED[what])
        return {"answer": answer[:MAX_ANSWER_CHARS]}

    async def _hand_over(self, message: str) -> dict[str, Any]:
        self._check_open()
        live_url = await self._live_url
        if live_url is None:
            raise ToolError("This task has no live view to hand over.")
        handoff_id = secrets.token_urlsafe(12)
        link = live_view_link(live_url, interactive=True)
        answer = await self._person.hand_over(link, message[:MAX_ANSWER_CHARS], handoff_id)
        if answer != "accepted":
            raise ToolError(_NOT_TAKEN[answer])
        self._shown.append(handoff_id)
        return {"answer": answer, "timeout": self._timeout}


def _schema(**fields: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": text} for name, text in fields.items()},
        "required": list(fields),
        "additionalProperties": False,
    }


_NOT_ANSWERED: dict[str, str] = {
    "declined": "The person declined to answer.",
    "cancelled": "The person dismissed the question without answering.",
    "unsupported": "The person cannot be asked from here: carry on without them.",
}
_NOT_TAKEN: dict[str, str] = {
    "declined": "The person declined to take the browser.",
    "cancelled": "The person dismissed the request without taking the browser.",
    "unsupported": "Nobody can be sent to the browser from here: carry on without the person.",
}
