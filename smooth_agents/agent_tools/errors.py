"""Client errors turned into messages a model can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import (
    ActionError,
    APIConnectionError,
    APIError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    SessionClosedError,
    SmoothError,
    TaskFailedError,
    UnprocessableEntityError,
)
from .base import ToolFailure

if TYPE_CHECKING:
    from .base import ToolDefinition


def validate_input(definition: ToolDefinition[Any, Any], arguments: dict[str, Any]) -> Any:
    try:
        return definition.input_model.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolFailure(f"Invalid arguments for {definition.name}: {problems}.") from None


def as_tool_failure(tool: str, exc: BaseException) -> ToolFailure | None:
    """A ToolFailure for the errors a caller can do something about; None for bugs."""
    if isinstance(exc, SessionClosedError):
        return ToolFailure(f"{exc} Call smooth_session_open to start a new session.")
    if isinstance(exc, ActionError):
        still_open = " The session is still open: fix the input and try again." if "session" in tool else ""
        return ToolFailure(f"{exc}.{still_open}")
    if isinstance(exc, TaskFailedError):
        return ToolFailure(f"The task ended {exc.status}: {exc.output}")
    if isinstance(exc, AuthenticationError):
        return ToolFailure("Smooth refused the API key. Check SMOOTH_API_KEY in this server's configuration.")
    if isinstance(exc, RateLimitError):
        return ToolFailure(
            f"{exc} Close sessions you no longer need (smooth_session_close) or wait a moment."
        )
    if isinstance(exc, NotFoundError):
        return ToolFailure(
            f"Not found: {exc.detail}. Check the id (smooth_session_list lists open sessions)."
        )
    if isinstance(exc, UnprocessableEntityError):
        return ToolFailure(f"Smooth rejected the arguments of {tool}: {exc}")
    if isinstance(exc, APIError):
        return ToolFailure(f"{tool} failed: {exc}")
    if isinstance(exc, APIConnectionError):
        return ToolFailure(f"Smooth could not be reached: {exc} Try again shortly.")
    if isinstance(exc, SmoothError):
        return ToolFailure(f"{tool} failed: {exc}")
    if isinstance(exc, ValueError):
        return ToolFailure(f"{tool} failed: {exc}")
    return None
