"""Handing a session's browser to a person and back (the self-hosted server's ``hand_over``).

``AsyncSession.hand_over`` sends the action and waits; ``start`` sends it and returns a
``PendingHandOver`` at once, whose ``result()`` waits (any number of callers, any number of times:
the one answer is shared); ``last_of`` gives a session's latest one (smooth_session_handoff waits
for it on a later call), and ``adopt`` one another process started (a replica that was told of
it through the store they share). While it is pending the server answers no other action of the session:
they wait their turn. A server without the action (the Smooth cloud) answers it with an error,
raised as ``HandOverUnsupportedError``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .errors import BadRequestError, HandOverUnsupportedError, UnprocessableEntityError
from .http import api_path
from .models import ActionResult, HandOverResult, Task, parse_answer
from .protocol import CANCEL_HAND_OVER, HAND_OVER

if TYPE_CHECKING:
    from .session import AsyncSession

# The bounds the self-hosted server sets on the action's input; checked here first, so that a
# refusal of the action can only mean that the server does not have it.
MAX_MESSAGE_CHARS = 2000
MAX_TIMEOUT_SECONDS = 86_400.0
DEFAULT_TIMEOUT_SECONDS = 600.0
# How long past its own timeout the answer is waited for: the server ends the hand-over then, and
# answers with the page as it is.
ANSWER_GRACE_SECONDS = 60.0


def check_input(message: str, timeout: float) -> None:
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValueError(f"message must be at most {MAX_MESSAGE_CHARS} characters")
    if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise ValueError(f"timeout must be more than 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds")


class PendingHandOver:
    """A hand-over sent to the server and not yet read: ``result()`` waits for its end."""

    def __init__(
        self, session: AsyncSession, event_id: str, message: str, answer: asyncio.Task[ActionResult]
    ) -> None:
        self.session_id = session.id
        self.event_id = event_id
        self.message = message
        self._answer = answer
        answer.add_done_callback(_retrieved)
        # Set once result() has returned: its end has been read.
        self.read = False

    @property
    def done(self) -> bool:
        """True once the hand-over has ended (its result is then at hand)."""
        return self._answer.done()

    @property
    def handed_back(self) -> bool:
        """True once it ended with the person handing the browser back."""
        if not self._answer.done() or self._answer.cancelled() or self._answer.exception() is not None:
            return False
        output = self._answer.result().output
        return isinstance(output, dict) and output.get("handed_back") is True

    @property
    def joinable(self) -> bool:
        """Whether a new ask for the person should wait for this one rather than send another: it
        is still pending, or the person handed back and nobody has read it yet."""
        return not self.read and (not self.done or self.handed_back)

    def __repr__(self) -> str:
        return f"PendingHandOver(session={self.session_id!r}, event_id={self.event_id!r}, done={self.done})"

    async def ended(self) -> None:
        """Wait for the end without reading it (``result`` reads it)."""
        await asyncio.wait({self._answer})

    async def result(self) -> HandOverResult:
        """Wait for the end (the person hands back, the time runs out, it is cancelled or the
        session closes); cancelling this wait leaves the hand-over pending."""
        answer = await asyncio.shield(self._answer)
        output = answer.output if isinstance(answer.output, dict) else {}
        self.read = True
        return HandOverResult.model_validate({**output, "event_id": self.event_id})


def _retrieved(answer: asyncio.Task[ActionResult]) -> None:
    """A hand-over nobody waits for may fail (the session closed): not an unretrieved error."""
    if not answer.cancelled():
        answer.exception()


async def start(session: AsyncSession, message: str, timeout: float) -> PendingHandOver:
    """Send ``hand_over`` (see ``AsyncSession.hand_over``) and return at once: the hand-over,
    pending."""
    check_input(message, timeout)
    try:
        action_input = {"message": message, "timeout": timeout}
        event_id, future = await session._send("browser_action", HAND_OVER, action_input)
    except (BadRequestError, UnprocessableEntityError) as exc:
        raise HandOverUnsupportedError(HAND_OVER, str(exc.detail)) from exc
    # An action answered with code 400 failed as an action; hand_over cannot fail so (its input
    # was checked here), so the server does not have it.
    answer = asyncio.create_task(
        session._answer(
            HAND_OVER, event_id, future, timeout + ANSWER_GRACE_SECONDS, refused=HandOverUnsupportedError
        )
    )
    pending = PendingHandOver(session, event_id, message, answer)
    session._hand_over = pending
    return pending


async def adopt(session: AsyncSession, event_id: str, timeout: float) -> PendingHandOver:
    """The hand-over ``event_id`` that another process started on this session (replicas sharing
    a store): pending here as if started here, whether its answer came already or is to come."""
    future = session._poller.expect(event_id, HAND_OVER)
    session._poller.kick()
    # An answer that came before this process looked for it is in the session's events already
    # (the poller passes over an event it saw before it was expected): read them once, from the start.
    try:
        reply = await session._http.request("GET", api_path("task", session.id), params={"event_t": 0})
        task = parse_answer(Task, reply.value, f"GET /task/{session.id}")
    except BaseException:
        session._poller.forget(event_id)
        raise
    came = next((event for event in task.events or [] if event.id == event_id), None)
    if came is not None and not future.done():
        session._poller.forget(event_id)
        future.set_result(came)
    answer = asyncio.create_task(
        session._answer(
            HAND_OVER, event_id, future, timeout + ANSWER_GRACE_SECONDS, refused=HandOverUnsupportedError
        )
    )
    pending = PendingHandOver(session, event_id, "", answer)
    session._hand_over = pending
    return pending


def last_of(session: AsyncSession) -> PendingHandOver | None:
    """The hand-over most recently started through this session handle, if any."""
    return session._hand_over


async def cancel(session: AsyncSession) -> bool:
    """Send ``cancel_hand_over``; see ``AsyncSession.cancel_hand_over``."""
    try:
        event_id, future = await session._send("browser_action", CANCEL_HAND_OVER, {})
    except (BadRequestError, UnprocessableEntityError) as exc:
        raise HandOverUnsupportedError(CANCEL_HAND_OVER, str(exc.detail)) from exc
    result = await session._answer(
        CANCEL_HAND_OVER, event_id, future, session._action_timeout, refused=HandOverUnsupportedError
    )
    output = result.output
    return isinstance(output, dict) and output.get("cancelled") is True
