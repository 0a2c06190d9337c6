"""smooth_browse: a task in plain language, done by a browser agent."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import Field

from ..handles import TaskTimeoutError
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .budget import cut
from .common import Device, optional_schema_field, report_progress, text_of


class BrowseInput(ToolInput):
    task: str = Field(
        min_length=1,
        description="What to do on the web, in plain language, as you would ask a person "
        "(e.g. 'find the three cheapest flights from Lisbon to Berlin next Friday').",
    )
    url: str = Field(
        default="",
        description="Optional page to start from (https://...). Leave empty to let the agent find it.",
    )
    response_schema: dict[str, Any] = optional_schema_field()
    max_steps: int = Field(default=32, ge=2, le=128, description="Most browser steps the agent may take.")
    wait_seconds: float = Field(
        default=0,
        ge=0,
        description="How long to wait for the answer before returning status 'running' with the task id "
        "(0: the server's default). Fetch a running task later with smooth_task_status.",
    )
    device: Device = Field(default="desktop", description="Browser viewport: desktop, mobile or desktop-lg.")
    allowed_urls: list[str] = Field(
        default_factory=list,
        description="Optional URL glob patterns the browser may load, e.g. ['https://**.example.com/**'].",
    )
    profile_id: str = Field(default="", description="Optional browser profile id (cookies, logins) to use.")


class TaskOutput(ToolOutput):
    task_id: str
    status: str = Field(description="waiting, running, done, failed or cancelled")
    output: Any = Field(default=None, description="The answer: text, or JSON matching the schema.")
    live_url: str | None = Field(default=None, description="Where a person can watch or take over.")
    truncated: bool = Field(default=False, description="True when only part of a long text answer is here.")
    next_start_index: int | None = Field(
        default=None, description="start_index for smooth_task_status to read on."
    )
    message: str = Field(default="", description="What happened and what to do next.")


def task_output(
    task_id: str, status: str, output: Any, live_url: str | None, start: int, budget: int
) -> TaskOutput:
    part, more, next_index = cut(output, start, budget)
    message = ""
    if more:
        message = f"The answer is long; call smooth_task_status with start_index={next_index} for more."
    return TaskOutput(
        task_id=task_id,
        status=status,
        output=part,
        live_url=live_url,
        truncated=more,
        next_start_index=next_index,
        message=message,
    )


async def browse(context: ToolContext, args: BrowseInput) -> TaskOutput:
    settings = context.settings
    wait = min(args.wait_seconds or settings.wait_seconds, settings.max_wait_seconds)
    handle = await context.client.run(
        args.task,
        url=args.url or None,
        response_model=args.response_schema or None,
        max_steps=args.max_steps,
        device=args.device,
        allowed_urls=args.allowed_urls or None,
        profile_id=args.profile_id or None,
        custom_tools=list(context.custom_tools) or None,
    )
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
        if context.custom_tools:
            # Its custom tools live here: keep answering them until the task ends.
            handle.follow_to_end()
            message += " This server keeps answering its tool calls meanwhile."
        return TaskOutput(task_id=handle.id, status=handle.status, live_url=handle.live_url, message=message)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await follower  # progress is best effort: a failed report never fails the call
        if not left_running or not context.custom_tools:
            await handle.aclose()
    return task_output(result.id, result.status, result.output, result.live_url, 0, settings.content_budget)


def summarize(result: TaskOutput) -> str:
    if result.status in ("waiting", "running"):
        return f"Task {result.task_id} is {result.status}. {result.message} Live view: {result.live_url}"
    text = f"Task {result.task_id} {result.status}: {text_of(result.output)}"
    return f"{text}\n{result.message}" if result.message else text


BROWSE = ToolDefinition(
    name="smooth_browse",
    title="Browse the web with an agent",
    description=(
        "Hand a web task to a real browser agent and get the result: describe it in plain language, "
        "optionally give a start `url` and a `response_schema` (JSON schema) to get the answer as JSON. "
        "Use it for multi-step work (searching, filling forms, comparing pages). Returns the answer, "
        "the status and a live_url where a person can watch or take over. Long tasks come back with "
        "status 'running' and a task_id for smooth_task_status. To read one known page, smooth_extract "
        "is faster; for step-by-step control, use the smooth_session_* tools."
    ),
    input_model=BrowseInput,
    output_model=TaskOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=False),
    run=browse,
    summarize=summarize,
    embedded_note=(
        "This server runs the built-in local browser without a model: it answers only when `url` is "
        "given, by reading that page as text, or by extracting JSON when `response_schema` is given."
    ),
)
