"""smooth_session_handoff: the session's browser handed to a person, and back.

The person is reached through the surface's ``Person`` (``ToolContext.person``): an MCP client's
URL-mode elicitation, a LangChain callback. On a server with the ``hand_over`` action (the
self-hosted one) the live view shows the person the message and a Done button, and the tool
returns when they press it. On a server without it (the Smooth cloud), the person is sent to the
cloud's own interactive live view and asked, where the surface can ask, to confirm they are done.

Where nobody can be asked, the tool answers at once with the link and what to tell the person,
and the hand-over stays pending: a later call on the same session waits for it (it never sends a
second one while one is pending), through whichever replica it lands on where replicas share a
store (the store notes the pending hand-over's event id; the replica that did not start it
adopts it and reads its answer from the session's events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import weakref

from .. import hand_over as handing
from ..errors import HandOverUnsupportedError, SmoothError, ToolFailure
from ..hand_over import PendingHandOver
from ..models import HandOverResult
from ..person import HandOverAnswer
from ..protocol import live_view_link
from ..session import AsyncSession
from .base import ToolContext, ToolDefinition, ToolHints
from .handoff_result import (
    ENDS,
    HandoffInput,
    HandoffOutput,
    HandoffStatus,
    lead,
    pending_note,
    said,
    told_note,
    with_done,
)

log = logging.getLogger("smooth_agents.tools")

# Progress goes out this often while the person has the browser (hosts that bound a call's time
# by its silence then keep waiting).
PROGRESS_EVERY_SECONDS = 15.0
# The page as a hand-over's answer, read where the server has no hand_over (the Smooth cloud).
PAGE_REPORT_JS = (
    "(args) => ({handed_back: args.handed_back, url: location.href, title: document.title, "
    "text: document.body ? document.body.innerText : ''})"
)
# Sessions on a server without hand_over whose person was given the link and not heard from:
# their next call takes the person's word (through the model) that they are done.
_TOLD: weakref.WeakKeyDictionary[AsyncSession, float] = weakref.WeakKeyDictionary()
# What the store notes for such a session (replicas sharing one): not an event id. Kept a day at
# most, as long as a person may take and the session live on.
TOLD_NOTE = "told"
TOLD_KEEP_SECONDS = 86_400.0
# The tasks that keep a session in use while its person has it (see hold_until_ended).
_HOLDERS: set[asyncio.Future[None]] = set()


class _Handoff:
    """One call of the tool on one session."""

    def __init__(self, context: ToolContext, session: AsyncSession, args: HandoffInput) -> None:
        self.context = context
        self.session = session
        self.message = args.message
        self.timeout = context.settings.handoff_timeout
        self.person = context.person

    async def ask(self, link: str, handoff_id: str, message: str) -> HandOverAnswer | None:
        """The person's answer through the host; None when the host gave none in time."""
        if self.person is None:
            return "unsupported"
        try:
            async with asyncio.timeout(self.timeout):
                return await self.person.hand_over(link, message, handoff_id)
        except TimeoutError:
            return None

    async def run(self) -> HandoffOutput:
        link = await self.link()
        told, pending = await self.earlier()
        if told:
            return await self.told_done(link)
        if pending is not None and pending.joinable:
            return await self.wait(link, pending, asked=False)
        try:
            pending = await handing.start(self.session, self.message, self.timeout)
        except HandOverUnsupportedError:
            return await self.without_signal(link)
        await self.note(pending.event_id)  # a call cut off from here on leaves it to the next
        answer = await self.ask(link, pending.event_id, with_done(self.message))
        if answer == "unsupported":
            self.hold_until_ended(pending)
            return self.waiting(link, pending_note(link, self.message, self.timeout))
        if answer != "accepted":
            await self.session.cancel_hand_over()
            ended = await pending.result()
            await self.note(None)
            return self.answer(link, ended, status=answer or "timed out")
        return await self.wait(link, pending, asked=True)

    async def earlier(self) -> tuple[bool, PendingHandOver | None]:
        """What earlier calls left for this one: whether the person was given the link by a server
        without hand_over and the model is to say when they are done, and the hand-over a person
        was told of that no call has read. This process's own; with replicas sharing a store, what
        the store notes, whichever replica left it (what was read through another replica is not
        this process's to give again)."""
        here = handing.last_of(self.session)
        shared = self.context.sessions.shared
        if shared is None:
            return self.session in _TOLD, here
        noted = await shared.noted_hand_over(self.session.id)
        if noted == TOLD_NOTE:
            return True, None
        if noted is None:
            # Nothing noted that no call has read. A hand-over this process holds that has not
            # ended is still the one (its note lost with the store); one that ended and is not
            # noted was read, maybe through another replica.
            return False, here if here is not None and not here.done else None
        if here is not None and here.event_id == noted:
            return False, here
        return False, await handing.adopt(self.session, noted, self.timeout)

    async def note(self, event_id: str | None) -> None:
        """Tell the replicas sharing a store which hand-over the person was told of (``TOLD_NOTE``:
        the link, from a server without hand_over; None: it has been read); nothing to tell
        without one."""
        shared = self.context.sessions.shared
        if shared is None:
            return
        # A hand-over's answer comes by its timeout; a link given without one waits for the model.
        keep_for = TOLD_KEEP_SECONDS if event_id == TOLD_NOTE else self.timeout + handing.ANSWER_GRACE_SECONDS
        try:
            await shared.note_hand_over(self.session.id, event_id, keep_for)
        except ToolFailure:
            # This process still knows; only another replica's next call may ask the person again.
            log.warning("could not note session %s's hand-over in the shared store", self.session.id)

    def hold_until_ended(self, pending: PendingHandOver) -> None:
        """Keep the session in use (never idle, so never reaped) while the person has it and no
        call waits for them."""
        sessions, owner = self.context.sessions, self.context.owner

        async def hold() -> None:
            with contextlib.suppress(Exception):  # the session closed meanwhile: nothing to hold
                async with sessions.use(self.session.id, owner):
                    await pending.ended()

        holder = asyncio.ensure_future(hold())
        _HOLDERS.add(holder)
        holder.add_done_callback(_HOLDERS.discard)

    async def link(self) -> str:
        live_url = self.session.live_url
        if not live_url:
            live_url = (await self.context.client.get_task(self.session.id)).live_url
        if not live_url:
            raise ToolFailure(
                f"Session {self.session.id} has no live view to hand over (yet); try again in a moment."
            )
        return live_view_link(live_url, interactive=True)

    async def wait(self, link: str, pending: PendingHandOver, *, asked: bool) -> HandoffOutput:
        """Until the hand-over ends, telling the caller now and then that it still waits."""
        started = time.monotonic()
        waiting = asyncio.ensure_future(pending.result())
        try:
            while not (await asyncio.wait({waiting}, timeout=PROGRESS_EVERY_SECONDS))[0]:
                await self.still_waiting(time.monotonic() - started)
        finally:
            waiting.cancel()  # the hand-over itself stays pending (see PendingHandOver.result)
        try:
            ended = waiting.result()
            await self.note(None)  # read: no later call gives it again, on any replica
        except HandOverUnsupportedError:
            # The server took the action and then refused it: it has none, and no Done button
            # shows. The link is the same; the person says when they are done.
            if not asked:
                return await self.told_done(link)
            return await self.confirmed(link, pending.event_id)
        if asked and self.person is not None:
            await self.person.done(pending.event_id)
        return self.answer(link, ended)

    async def still_waiting(self, waited: float) -> None:
        try:
            await self.context.progress(
                f"waiting for the person to hand session {self.session.id}'s browser back", waited, None
            )
        except Exception:  # the listener went away: the wait goes on
            return

    def answer(
        self, link: str, ended: HandOverResult, *, status: HandoffStatus | None = None
    ) -> HandoffOutput:
        if status is None:
            status = "handed back" if ended.handed_back else ENDS.get(ended.reason or "", "cancelled")
        cut = ended.model_extra.get("text_cut_at") if ended.model_extra else None
        message = said(status, self.timeout)
        if isinstance(cut, int):
            message += f" The page's text was cut at {cut:,} characters by the server."
        return HandoffOutput(
            session_id=self.session.id,
            event_id=ended.event_id or "",
            status=status,
            handed_back=ended.handed_back,
            link=link,
            url=ended.url,
            title=ended.title,
            text=ended.text,
            message=message,
        )

    def waiting(self, link: str, note: str) -> HandoffOutput:
        return HandoffOutput(
            session_id=self.session.id,
            status="waiting for the person",
            handed_back=False,
            link=link,
            text=note,
            message="Pass the text on to the person, then call smooth_session_handoff again with this "
            "session_id to wait for them.",
        )

    # -- a server without hand_over (the Smooth cloud): no signal from the view ------------------

    async def without_signal(self, link: str) -> HandoffOutput:
        handoff_id = "handoff_" + secrets.token_hex(8)
        asked = (
            f"{self.message}\n\nOpen the link, do this in the browser there, then come back here and "
            "confirm you are done."
        )
        answer = await self.ask(link, handoff_id, asked)
        if answer == "unsupported":
            _TOLD[self.session] = time.monotonic()
            await self.note(TOLD_NOTE)
            return self.waiting(link, told_note(link, self.message))
        if answer != "accepted":
            return await self.page(link, status=answer or "timed out")
        return await self.confirmed(link, handoff_id)

    async def confirmed(self, link: str, handoff_id: str) -> HandoffOutput:
        """The person went to the link: ask them to say when they are done."""
        assert self.person is not None
        try:
            async with asyncio.timeout(self.timeout):
                confirmed = await self.person.confirm_done(f"Are you done in the browser? ({self.message})")
        except TimeoutError:
            return await self.page(link, status="timed out")
        if confirmed is None:  # the person went, but cannot say when they are done: the model asks
            _TOLD[self.session] = time.monotonic()
            await self.note(TOLD_NOTE)
            return self.waiting(link, told_note(link, self.message))
        if confirmed:
            await self.person.done(handoff_id)
        return await self.page(link, status="handed back" if confirmed else "declined")

    async def told_done(self, link: str) -> HandoffOutput:
        """A later call, once the model heard from the person (or can ask them now)."""
        confirmed = None
        if self.person is not None:
            confirmed = await self.person.confirm_done(f"Are you done in the browser? ({self.message})")
        _TOLD.pop(self.session, None)
        await self.note(None)
        return await self.page(link, status="declined" if confirmed is False else "handed back")

    async def page(self, link: str, *, status: HandoffStatus) -> HandoffOutput:
        """The page as it is now, read as a hand-over's answer would give it."""
        handed_back = status == "handed back"
        try:
            read = await self.session.evaluate_js(PAGE_REPORT_JS, {"handed_back": handed_back})
        except SmoothError as exc:
            raise ToolFailure(
                f"The hand-over ended ({status}), but the page could not be read: {exc}. The session "
                "is still open."
            ) from exc
        report = read.output if isinstance(read.output, dict) else {}
        report = {**report, "handed_back": handed_back, "event_id": read.event_id}
        ended = HandOverResult.model_validate(report)
        return self.answer(link, ended, status=status)


async def session_handoff(context: ToolContext, args: HandoffInput) -> HandoffOutput:
    async with context.sessions.use(args.session_id, context.owner) as session:
        return await _Handoff(context, session, args).run()


SESSION_HANDOFF = ToolDefinition(
    name="smooth_session_handoff",
    title="Hand the browser to a person",
    description=(
        "Hand an open session's browser to a person for what only they should do: sign in (a "
        "password, a one-time code), solve a CAPTCHA, confirm a payment or anything you are unsure "
        "of. The person gets a link to the session's live view, where they see the page and use it "
        "with their own mouse and keyboard; what they type there never reaches you. `message` says "
        "what they should do. Returns when they hand the browser back, decline, or the time runs "
        "out, with the page as it then is (URL, title, what it says). If the person cannot be asked "
        "from here, it returns at once with status 'waiting for the person' and a note to pass on "
        "to them; call it again with the same session_id to wait for them. The session's other "
        "actions wait while the person has the browser. Never ask for passwords or codes yourself."
    ),
    input_model=HandoffInput,
    output_model=HandoffOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False),
    run=session_handoff,
    lead=lead,
)
