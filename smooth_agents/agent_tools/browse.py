"""smooth_browse: a task in plain language, done by a browser agent."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from ..cancellation import cancel_and_wait
from ..errors import SmoothError, TaskTimeoutError
from ..protocol import Device
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput
from .common import (
    LOCAL_LIVE_VIEW,
    checked_schema,
    device_field,
    files_field,
    max_steps,
    max_steps_field,
    optional_schema_field,
    report_progress,
    task_metadata,
    whole_page_field,
)
from .errors import in_tool_names
from .render import LongOutput, kind_of
from .schemas import JsonObject


class BrowseInput(ToolInput):
    task: str = Field(
        min_length=1,
        description="What to do on the web, in plain language, as you would ask a person "
        "(e.g. 'find the three cheapest flights from Lisbon to Berlin next Friday').",
    )
    url: str = Field(
        default="",
        description="Page to start from (https://...); empty to let the agent find it.",
    )
    response_schema: JsonObject = optional_schema_field()
    max_steps: int = max_steps_field()
    wait_seconds: float = Field(
        default=0,
        ge=0,
        description="Seconds to wait for the answer before returning status 'running' with the task_id; "
        "0 for the server's default. Read a running task later with smooth_task_status.",
    )
    device: Device = device_field()
    allowed_urls: list[str] = Field(
        default_factory=list,
        description="URL glob patterns the browser may load, e.g. ['https://**.example.com/**']; "
        "empty for no limit.",
    )
    profile_id: str = Field(
        default="", description="Browser profile id (cookies, logins) to use; empty for a fresh browser."
    )
    files: list[str] = files_field()
    whole_page: bool = whole_page_field()


LIVE_URL_HELP = (
    "Where a person can watch the browser while it works; with interactive=true in the link they can "
    "use the page too."
)
DOWNLOADS_URL_HELP = (
    "After the task: where to fetch, as one zip archive, the files it downloaded (and its "
    "screenshots and PDFs); null when there are none."
)
RECORDING_URL_HELP = "After the task: where to fetch its video recording; null when there is none."
FILE_LINKS = ("downloads_url", "recording_url")


class OmitsAbsentLinks(BaseModel):
    """An output whose ``downloads_url`` and ``recording_url`` appear only when the task has them
    (most have neither: no null fields for the model to read past)."""

    # Unannotated on purpose: pydantic reads a return annotation as the serialized schema, and the
    # published output schema must stay the model's own.
    @model_serializer(mode="wrap")
    def _links_when_present(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        dumped = handler(self)
        if isinstance(dumped, dict):
            for key in FILE_LINKS:
                if dumped.get(key) is None:
                    dumped.pop(key, None)
        return dumped


async def file_links(context: ToolContext, task_id: str) -> tuple[str | None, str | None]:
    """An ended task's downloads and recording links (None where it has none; best effort: a
    failed look is no failure of the call)."""
    try:
        task = await context.client.get_task(task_id, downloads=True)
    except SmoothError:
        return None, None
    return task.downloads_url or None, task.recording_url or None


def links_text(downloads_url: str | None, recording_url: str | None) -> str:
    """The links as words, for the text a model reads (empty when there are none)."""
    said = [f"downloads (zip): {downloads_url}"] if downloads_url else []
    said += [f"recording: {recording_url}"] if recording_url else []
    return "; ".join(said)


class TaskOutput(LongOutput, OmitsAbsentLinks):
    task_id: str
    event_id: str = Field(
        default="", description="Set when the answer is one session action's result (read on with it)."
    )
    status: str = Field(description="waiting, running, done, failed or cancelled")
    output: Any = Field(default=None, description="The answer: text, or JSON matching the schema.")
    live_url: str | None = Field(default=None, description=LIVE_URL_HELP)
    downloads_url: str | None = Field(default=None, description=DOWNLOADS_URL_HELP)
    recording_url: str | None = Field(default=None, description=RECORDING_URL_HELP)
    message: str = Field(default="", description="What happened and what to do next.")

    @model_validator(mode="after")
    def _failure_in_tool_names(self) -> TaskOutput:
        # A failed task's output is the service's reason: it names what the model can call.
        if self.status in ("failed", "cancelled") and isinstance(self.output, str):
            self.output = in_tool_names(self.output)
        return self

    def reader_arguments(self) -> dict[str, Any] | None:
        if self.event_id:
            return {"task_id": self.task_id, "event_id": self.event_id}
        return {"task_id": self.task_id}

    def continued_lead(self) -> str:
        if self.event_id:
            return f"Result {self.event_id} of session {self.task_id}, continued:"
        return f"Answer of task {self.task_id}, continued:"


async def browse(context: ToolContext, args: BrowseInput) -> TaskOutput:
    settings = context.settings
    wait = min(args.wait_seconds or settings.wait_seconds, settings.max_wait_seconds)
    handle = await context.client.run(
        args.task,
        url=args.url or None,
        response_model=checked_schema(args.response_schema, "response_schema") or None,
        max_steps=max_steps(args.max_steps),
        device=args.device,
        allowed_urls=args.allowed_urls or None,
        profile_id=args.profile_id or None,
        files=args.files or None,
        custom_tools=list(context.custom_tools) or None,
        metadata=task_metadata(context, args.whole_page),
        person=context.person,
        handoff_timeout=settings.handoff_timeout,
    )
    context.sessions.claim(handle.id, context.owner, session=False)
    follower = asyncio.create_task(report_progress(context, handle))
    left_running = False
    try:
        result = await handle.result(timeout=wait)
    except TaskTimeoutError:
        left_running = True
        message = (
            f"Still running after {wait:g} s. Call smooth_task_status with task_id={handle.id!r} "
            "later, or smooth_task_cancel to stop it."
        )
        if handle.has_custom_tools:
            # Its custom tools live here: keep answering them until the task ends.
            handle.follow_to_end()
            message += " This server keeps answering its tool calls meanwhile."
        return TaskOutput(task_id=handle.id, status=handle.status, live_url=handle.live_url, message=message)
    finally:

        async def wind_down() -> None:
            # Progress is best effort: a failed report never fails the call.
            await cancel_and_wait(follower)
            # The person is reached through this call: once it returns, the task's agent is told.
            await handle.end_person_tools()
            if not left_running or not handle.has_custom_tools:
                await handle.aclose()

        # To its end even when the call is cancelled again meanwhile (a host's cancel is sent
        # at every await of a cancelled call): else the person's tools were never ended.
        await asyncio.shield(asyncio.ensure_future(wind_down()))
    context.sessions.ended(result.id)  # still its owner's to read on, among their ended ids
    downloads_url, recording_url = await file_links(context, result.id)
    return TaskOutput(
        task_id=result.id,
        status=result.status,
        output=result.output,
        live_url=result.live_url,
        downloads_url=downloads_url,
        recording_url=recording_url or result.recording_url or None,
    )


def lead(result: TaskOutput) -> str:
    """The first line of a task's answer."""
    if result.event_id:  # a session action's result: the session's own status says nothing of it
        if result.output is None:
            return f"Result {result.event_id} of session {result.task_id} is null."
        return f"Result {result.event_id} of session {result.task_id} ({kind_of(result.output)}):"
    if result.status in ("waiting", "running"):
        said = [f"Task {result.task_id} is {result.status}.", result.message, f"Live view: {result.live_url}"]
        return " ".join(part for part in said if part)
    about = [result.status, kind_of(result.output), links_text(result.downloads_url, result.recording_url)]
    text = f"Answer of task {result.task_id} ({'; '.join(part for part in about if part)}):"
    return f"{result.message} {text}" if result.message else text


BROWSE = ToolDefinition(
    name="smooth_browse",
    title="Browse the web with an agent",
    description=(
        "Hand a web task to a real browser agent and get the result: describe it in plain language, "
        "optionally give a start `url` and a `response_schema` (JSON schema) to get the answer as JSON. "
        "Use it for multi-step work (searching, filling forms, comparing pages). Returns the answer, "
        "the status and a live_url where a person can watch the browser (or use it: interactive=true). "
        "Long tasks come back with status 'running' and a task_id for smooth_task_status. To read one "
        "known page, smooth_extract is faster; for step-by-step control, use the smooth_session_* "
        "tools. Where the host can ask its user (elicitation, callbacks), the task's agent may ask "
        "them a short question or hand them the browser to sign in while this call runs."
    ),
    input_model=BrowseInput,
    output_model=TaskOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=False),
    run=browse,
    lead=lead,
    embedded_note=(
        "This server runs the built-in local browser without a model: it answers only when `url` is "
        "given, by reading that page as text, or by extracting JSON when `response_schema` is given. "
        + LOCAL_LIVE_VIEW
    ),
    embedded_model_note=(
        "This server runs the built-in local browser with a model of its own: it does tasks in plain "
        "language (searching, clicking, filling forms, reading pages), starting from `url` when given; "
        "with `response_schema` it answers JSON matching that schema. " + LOCAL_LIVE_VIEW
    ),
)
