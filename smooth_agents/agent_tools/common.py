"""Argument fields shared by several tools, described for a model."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field

from ..errors import ToolFailure
from ..handles import AsyncTaskHandle
from ..json_schemas import json_schema_problem
from ..protocol import MAIN_CONTENT_ONLY
from .base import ToolContext

log = logging.getLogger("smooth_agents.tools")

SESSION_ID_HELP = "The session id returned by smooth_session_open."
SCHEMA_HELP = (
    "A JSON schema, as JSON text, describing the data to return, e.g. "
    '{"type": "object", "properties": {"price": {"type": "number"}}}. '
    "Property names and descriptions guide what is picked from the page."
)
OPTIONAL_SCHEMA_HELP = (
    "Optional JSON schema, as JSON text, for a structured answer; empty for a text answer. "
    'Example: {"type": "object", "properties": {"title": {"type": "string"}}}.'
)
PROMPT_HELP = "Optional hint of what to pick from the page, in plain words; empty for none."
DEVICE_HELP = "Browser viewport: desktop (the usual choice), mobile or desktop-lg."
MAX_STEPS_HELP = "Most browser steps the agent may take, 2 to 128; 0 for the default (32)."
FILES_HELP = (
    "Ids of files uploaded with smooth_file_upload that the browser may use (e.g. for a file "
    "input on a form); empty for none."
)
DEFAULT_MAX_STEPS = 32
# Said in the descriptions when the embedded local server answers (no Smooth key).
LOCAL_LIVE_VIEW = (
    "Its live_url shows the browser live as the page changes; with interactive=true in the link a "
    "person can use the page too (smooth_session_handoff hands a session to them)."
)


def session_id_field() -> Any:
    return Field(min_length=1, description=SESSION_ID_HELP)


def schema_field() -> Any:
    return Field(description=SCHEMA_HELP)


def optional_schema_field() -> Any:
    return Field(default_factory=dict, description=OPTIONAL_SCHEMA_HELP)


def prompt_field() -> Any:
    return Field(default="", description=PROMPT_HELP)


def device_field() -> Any:
    return Field(default="desktop", description=DEVICE_HELP)


def max_steps_field() -> Any:
    return Field(default=0, ge=0, le=128, description=MAX_STEPS_HELP)


def files_field() -> Any:
    return Field(default_factory=list, description=FILES_HELP)


def max_steps(value: int) -> int:
    """The step limit to send: 0 means the default; 1 is too few for any task."""
    if value == 0:
        return DEFAULT_MAX_STEPS
    if value < 2:
        raise ToolFailure("max_steps must be 0 (the default, 32) or between 2 and 128.")
    return value


def checked_schema(schema: dict[str, Any], argument: str) -> dict[str, Any]:
    """A JSON schema argument, refused before anything starts when broken (named as the caller
    named it)."""
    problem = json_schema_problem(schema) if schema else None
    if problem is not None:
        where, message = problem
        raise ToolFailure(
            f"{argument} is not a valid JSON schema (at {where or 'the top level'}): {message}."
        )
    return schema


def http_status_note(status: int | None) -> str:
    """Words for an HTTP error status of a loaded page ("" for success or unknown)."""
    if status is None or status < 400:
        return ""
    return f"The page answered HTTP {status}: it may be an error page, not the content asked for."


async def report_progress(context: ToolContext, handle: AsyncTaskHandle) -> None:
    """Forward a task's progress (status, live URL, events) to the caller's progress sink."""
    steps = 0
    live_url_sent = False
    async for update in handle.updates():
        if update.event is not None:
            steps += 1
        parts = [f"task {update.status}"]
        if update.event is not None:
            parts.append(f"step {steps}: {update.event.name}")
        if update.live_url and not live_url_sent:
            live_url_sent = True
            parts.append(f"watch live: {update.live_url}")
        try:
            await context.progress(" · ".join(parts), float(steps), None)
        except Exception:  # the listener went away (a closed stream): the task goes on
            log.debug("progress not delivered", exc_info=True)


def whole_page_field() -> Any:
    # False by default, so that a strict caller's "nothing" (false) means the default reading.
    return Field(
        default=False,
        description="When the answer is a page read as text: false (the default) keeps the page's "
        "main content (the article, the product, the listing) without navigation, ads and footers; "
        "true gives everything visible on the page.",
    )


def task_metadata(context: ToolContext, whole_page: bool) -> dict[str, Any] | None:
    """A task's metadata: the call's own (``context.task_metadata``), and the reader asked for the
    whole page when ``whole_page``; None when there is nothing to say."""
    metadata: dict[str, Any] = dict(context.task_metadata)
    if whole_page:
        metadata[MAIN_CONTENT_ONLY] = False
    return metadata or None
