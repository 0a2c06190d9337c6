"""What smooth_session_handoff answers: its input and output, and the words it uses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..hand_over import MAX_MESSAGE_CHARS
from .base import ToolInput
from .common import session_id_field
from .sessions import SessionResult

HandoffStatus = Literal[
    "handed back", "waiting for the person", "declined", "cancelled", "timed out", "closed"
]

# The keys of a hand-over's answer (the server's, or the page read here on the cloud): such a
# value is read on through its text (smooth_task_status with the event id).
REPORT_KEYS = frozenset({"handed_back", "reason", "url", "title", "text", "text_cut_at", "text_chars"})


def report_text(value: Any) -> Any:
    """A hand-over's answer read as its page text (what reading on continues); other values as
    they are."""
    if (
        isinstance(value, dict)
        and "handed_back" in value
        and isinstance(value.get("text"), str)
        and set(value) <= REPORT_KEYS
    ):
        return value["text"]
    return value


class HandoffInput(ToolInput):
    session_id: str = session_id_field()
    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS // 2,
        description="What the person should do in the browser, in a sentence or two, e.g. 'Sign in "
        "to example.com with your account'. Never ask for a password or a code here: the person "
        "types those into the page themselves.",
    )


class HandoffOutput(SessionResult):
    long_field = "text"

    status: HandoffStatus = Field(
        description="handed back (the person pressed Done), waiting for the person (tell them, then "
        "call again), declined or cancelled (the person said no), timed out, or closed."
    )
    handed_back: bool = Field(description="True when the person handed the browser back.")
    link: str = Field(description="The live view where the person sees and uses the browser.")
    url: str = Field(default="", description="The page the browser shows now.")
    title: str = ""
    text: str | None = Field(
        default=None,
        description="What the page says now; while waiting for the person, what to tell them.",
    )
    message: str = Field(default="", description="What happened and what to do next.")

    def reader_arguments(self) -> dict[str, Any] | None:
        # While waiting, the text is the note for the person: nothing to read again.
        return None if self.status == "waiting for the person" else super().reader_arguments()


ENDS: dict[str, HandoffStatus] = {"timeout": "timed out", "cancelled": "cancelled", "closed": "closed"}


def with_done(message: str) -> str:
    return f"{message}\n\nOpen the link, do this in the browser there, then press Done at the top of it."


def pending_note(link: str, message: str, timeout: float) -> str:
    return (
        f"Please open {link} and do this in the browser there: {message}\n"
        f"When you have finished, press Done at the top of that page (within {_duration(timeout)})."
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} seconds"
    return f"{seconds / 60:.0f} minutes"


def told_note(link: str, message: str) -> str:
    return (
        f"Please open {link} and do this in the browser there: {message}\n"
        "When you have finished, tell me you are done."
    )


def said(status: HandoffStatus, timeout: float) -> str:
    return {
        "handed back": "Go on from the page it shows.",
        "declined": "The person declined; the session goes on as it is.",
        "cancelled": "The request was dismissed or cancelled; the session goes on as it is.",
        "timed out": f"No hand-back within {timeout:g} s; call smooth_session_handoff again to give "
        "them more time.",
        "closed": "The session was closed meanwhile.",
        "waiting for the person": "",
    }[status]


def lead(r: HandoffOutput) -> str:
    if r.status == "waiting for the person":
        return (
            f"Session {r.session_id}'s browser waits for a person. Pass the note below on to them, then "
            f"call smooth_session_handoff with session_id={r.session_id!r} again: it returns when they "
            "are done."
        )
    shows = f"It shows {r.url} ({r.title!r})." if r.url else ""
    said = {
        "handed back": f"The person handed session {r.session_id}'s browser back.",
        "declined": f"The person declined to take session {r.session_id}'s browser.",
        "cancelled": f"The hand-over of session {r.session_id} was cancelled.",
        "timed out": f"The person did not hand session {r.session_id}'s browser back in time; call "
        "smooth_session_handoff again to give them more time.",
        "closed": f"Session {r.session_id} was closed during the hand-over.",
    }[r.status]
    return f"{said} {shows} What the page says:" if r.text else f"{said} {shows}"
