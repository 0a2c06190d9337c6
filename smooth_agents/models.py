"""Typed answers of the Smooth API. Unknown fields are kept, so newer servers stay readable."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import APIError
from .protocol import ACTIVE_STATUSES, TaskStatus

ModelT = TypeVar("ModelT", bound=BaseModel)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskEvent(_Open):
    name: str
    payload: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    timestamp: int | None = None


class Task(_Open):
    """A task or session as the service describes it."""

    id: str
    status: TaskStatus
    output: Any = None
    credits_used: float | None = None
    device: str | None = None
    live_url: str | None = None
    recording_url: str | None = None
    downloads_url: str | None = None
    created_at: int | None = None
    events: list[TaskEvent] | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class TaskResult(_Open):
    """The end of a task: its status and output (parsed into the response model class if given)."""

    id: str
    status: TaskStatus
    output: Any = None
    credits_used: float | None = None
    live_url: str | None = None
    recording_url: str | None = None
    # The tokens the task's model used, by model name ({"input_tokens", "output_tokens",
    # "total_tokens", ...}), where the server says (the self-hosted server's ``model_usage``
    # event); None where it does not (the Smooth cloud counts credits_used instead).
    model_usage: dict[str, dict[str, Any]] | None = None

    @property
    def tokens(self) -> tuple[int, int] | None:
        """Input and output tokens over every model the task used; None when not told."""
        if not self.model_usage:
            return None
        counts = list(self.model_usage.values())
        return (
            sum(int(c.get("input_tokens", 0)) for c in counts),
            sum(int(c.get("output_tokens", 0)) for c in counts),
        )


class ActionResult(_Open):
    """The result of one session action."""

    output: Any = None
    credits_used: float = 0.0
    duration: float = 0.0
    # The action's event id in the session (its result can be read again from the task's events).
    event_id: str | None = None


class HandOverResult(_Open):
    """How a hand-over to a person ended (``AsyncSession.hand_over``), and the page as it then was."""

    # True when the person handed the browser back (pressed Done in the live view).
    handed_back: bool
    # Why it ended otherwise: "timeout", "cancelled" or "closed".
    reason: str | None = None
    url: str = ""
    title: str = ""
    # What the page says, as a task reading it gets it (the server may cut a very long page).
    text: str = ""
    # The action's event id in the session (its result can be read again from the task's events).
    event_id: str | None = None


class Profile(_Open):
    id: str


class UploadedFile(_Open):
    id: str


class Extension(_Open):
    id: str
    file_name: str | None = None
    creation_time: int | None = None


class TaskUpdate(BaseModel):
    """One step of a task's progress, as the handle's event iterator yields it."""

    task_id: str
    status: TaskStatus
    live_url: str | None = None
    event: TaskEvent | None = None
    elapsed: float = 0.0


_WRAPPED_KEYS = frozenset({"output", "credits_used", "duration"})


def parse_action_output(raw: Any) -> ActionResult:
    """An action result's ``payload.output``, in either shape the service is known to send.

    The SDKs parse ``{"output": V, "credits_used": N, "duration": S}``; the sessions page shows
    the value bare. A mapping is taken as the wrapped form only when it has exactly those keys.
    """
    if isinstance(raw, dict) and "output" in raw and set(raw) <= _WRAPPED_KEYS:
        return ActionResult.model_validate(raw)
    return ActionResult(output=raw)


def parse_answer(model: type[ModelT], value: Any, what: str) -> ModelT:
    """An answer of the service as ``model``; one that does not fit (``{"r": null}``, a missing
    id) is an ``APIError`` like any other bad answer, not a pydantic error."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        raise APIError(f"unexpected answer to {what} ({problems})", status_code=200) from None
