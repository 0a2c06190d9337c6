"""Argument fields shared by several tools, described for a model."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from pydantic import Field

from ..handles import AsyncTaskHandle
from .base import ToolContext

Device = Literal["desktop", "mobile", "desktop-lg"]
log = logging.getLogger("smooth_agents.tools")

SESSION_ID_HELP = "The session id returned by smooth_session_open."
SCHEMA_HELP = (
    "A JSON schema (an object) describing the data to return, e.g. "
    '{"type": "object", "properties": {"price": {"type": "number"}}}. '
    "Property names and descriptions guide what is picked from the page."
)
OPTIONAL_SCHEMA_HELP = (
    "Optional JSON schema (an object) for a structured answer; leave empty for a text answer. "
    'Example: {"type": "object", "properties": {"title": {"type": "string"}}}.'
)
PROMPT_HELP = "Optional hint of what to pick from the page, in plain words."


def session_id_field() -> Any:
    return Field(min_length=1, description=SESSION_ID_HELP)


def schema_field() -> Any:
    return Field(description=SCHEMA_HELP)


def optional_schema_field() -> Any:
    return Field(default_factory=dict, description=OPTIONAL_SCHEMA_HELP)


def prompt_field() -> Any:
    return Field(default="", description=PROMPT_HELP)


def text_of(value: Any, limit: int = 600) -> str:
    """A short text form of any output, for the text part of a tool result."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
