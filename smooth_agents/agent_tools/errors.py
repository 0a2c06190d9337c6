"""Client errors turned into messages a model can act on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import (
    ActionError,
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    SessionClosedError,
    SmoothError,
    TaskFailedError,
    ToolFailure,
    UnprocessableEntityError,
)
from ..protocol import renamed

if TYPE_CHECKING:
    from .base import ToolDefinition


# The contract's names (backticked in the service's messages, see protocol.renamed) as these
# tools call them: a message a model reads names what it can call.
TOOL_NAMES = {
    "response_model": "response_schema",
    "goto": "smooth_session_goto",
    "extract": "smooth_session_extract",
    "evaluate_js": "smooth_session_evaluate_js",
    "run_task": "smooth_session_run_task",
    "close": "smooth_session_close",
}


def in_tool_names(message: object) -> str:
    """A message of the service, with the contract's names written as these tools call them."""
    return renamed(str(message), TOOL_NAMES)


def validate_input(definition: ToolDefinition[Any, Any], arguments: dict[str, Any]) -> Any:
    """The arguments as the tool's input model; an explicit null means "not given", like an empty
    value (no argument takes null, and some hosts send null for what the model left out)."""
    given = {name: value for name, value in arguments.items() if value is not None}
    try:
        return definition.input_model.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolFailure(f"Invalid arguments for {definition.name}: {problems}.") from None


def _sentence(text: object) -> str:
    """Text ending with exactly one period (remote messages may or may not end with one)."""
    return str(text).rstrip().rstrip(".") + "."


def _not_found_hint(fields: Iterable[str]) -> str:
    """Where the ids this tool takes can be looked up."""
    names = set(fields)
    if "session_id" in names:
        return "Check the session_id (smooth_session_list lists the open sessions)."
    if "profile_id" in names:
        return "Check the profile_id (smooth_profile_list lists the profiles)."
    if "task_id" in names:
        return "Check the task_id (smooth_browse returns it; a read_more call names it)."
    return "Check the ids given."


def as_tool_failure(definition: ToolDefinition[Any, Any], exc: BaseException) -> ToolFailure | None:
    """A ToolFailure for the errors a caller can do something about; None for bugs."""
    tool = definition.name
    fields = definition.input_model.model_fields
    if isinstance(exc, SessionClosedError):
        return ToolFailure(f"{_sentence(exc)} Call smooth_session_open to start a new session.")
    if isinstance(exc, ActionError):
        still_open = (
            " The session is still open: fix the input and try again." if "session_id" in fields else ""
        )
        return ToolFailure(f"{tool} failed: {_sentence(in_tool_names(exc.remote_message))}{still_open}")
    if isinstance(exc, TaskFailedError):
        return ToolFailure(f"The task ended {exc.status}: {_sentence(in_tool_names(exc.output))}")
    if isinstance(exc, AuthenticationError):
        return ToolFailure("Smooth refused the API key. Check SMOOTH_API_KEY in this server's configuration.")
    if isinstance(exc, RateLimitError):
        return ToolFailure(
            f"{_sentence(exc)} Close sessions you no longer need (smooth_session_close) or wait a moment."
        )
    if isinstance(exc, NotFoundError):
        return ToolFailure(f"Not found: {_sentence(exc.detail)} {_not_found_hint(fields)}")
    if isinstance(exc, UnprocessableEntityError):
        return ToolFailure(f"Smooth rejected the arguments of {tool}: {_sentence(exc)}")
    if isinstance(exc, APIConnectionError):
        return ToolFailure(f"Smooth could not be reached: {_sentence(exc)} Try again shortly.")
    if isinstance(exc, SmoothError | ValueError):
        return ToolFailure(f"{tool} failed: {_sentence(exc)}")
    return None
