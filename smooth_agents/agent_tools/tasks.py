"""smooth_task_status and smooth_task_cancel: follow up on a task, read on through long results."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..errors import ToolFailure
from ..models import Task, parse_action_output
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .browse import TaskOutput
from .browse import lead as task_lead
from .crawl import job_message
from .crawl_jobs import CrawlJob, is_job_id
from .handoff_result import report_text


class TaskStatusInput(ToolInput):
    task_id: str = Field(
        min_length=1,
        description="The task_id smooth_browse, smooth_crawl or smooth_map returned, or the id a "
        "read_more call names.",
    )
    event_id: str = Field(
        default="",
        description="The id of one session action's result to read (as a read_more call names it); "
        "empty for the task's own answer.",
    )
    start_index: int = Field(
        default=0, ge=0, description="Where to continue reading a long answer (its next_start_index)."
    )


def _action_value(task: Task, event_id: str) -> Any:
    """The value of one session action's result, from the task's events."""
    for event in task.events or ():
        if event.id == event_id and "code" in event.payload:
            if event.payload.get("code") != 200:
                raise ToolFailure(f"Action {event_id} of {task.id} failed: {event.payload.get('output')}")
            # A hand-over's answer is read on through its page text (as smooth_session_handoff
            # gives it).
            return report_text(parse_action_output(event.payload.get("output")).output)
    raise ToolFailure(
        f"{task.id} has no result with event_id {event_id!r} (results are kept as long as the "
        "service keeps the session). Check the ids in the read_more call."
    )


def job_status(job: CrawlJob, start_index: int) -> TaskOutput:
    """A map, crawl or batch of pages read as a task: its pages so far, then the rest."""
    result = TaskOutput(task_id=job.id, status=job.status, message=job_message(job), start_index=start_index)
    # Set after validation: pages are the sites' own words, never rewritten as a failed task's
    # reason is (and a part read on must be the same text the first part came from).
    result.output = job.output()
    return result


async def task_status(context: ToolContext, args: TaskStatusInput) -> TaskOutput:
    await context.sessions.confirm_owner(args.task_id, context.owner)
    if is_job_id(args.task_id):
        return job_status(context.crawls.get(args.task_id, context.owner), args.start_index)
    task = await context.client.get_task(args.task_id, downloads=True)
    if not task.active:
        context.sessions.ended(task.id)  # still its owner's, among their ended ids
    if args.event_id:
        return TaskOutput(
            task_id=task.id,
            event_id=args.event_id,
            status=task.status,
            output=_action_value(task, args.event_id),
            live_url=task.live_url,
            start_index=args.start_index,
        )
    result = TaskOutput(
        task_id=task.id,
        status=task.status,
        output=task.output,
        live_url=task.live_url,
        downloads_url=task.downloads_url or None,
        recording_url=task.recording_url or None,
        start_index=args.start_index,
    )
    # What an id is comes from who opened it, never from its events: a task's agent acts on the
    # browser too (the local model agent reports each action as a browser_action event).
    if context.sessions.is_session(task.id):
        result.output = None
        result.message = (
            f"{task.id} is a browser session ({task.status}), not a one-shot task: act on it with the "
            f"smooth_session_* tools (session_id={task.id!r}), list open ones with smooth_session_list, "
            "and read on through a long action result with the read_more call that result names."
        )
    elif task.active:
        result.message = "Still running; call again later, or smooth_task_cancel to stop it."
    return result


TASK_STATUS = ToolDefinition(
    name="smooth_task_status",
    title="Check a task or read on",
    description=(
        "Get the status and answer of a task smooth_browse started (it returns the task_id when it "
        "answers 'running'), the pages of a smooth_crawl or smooth_map so far (then the rest), or "
        "read on through any long result: call it exactly as that result's read_more says "
        "(task_id, event_id, start_index)."
    ),
    input_model=TaskStatusInput,
    output_model=TaskOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=task_status,
    lead=task_lead,
)


class TaskCancelInput(ToolInput):
    task_id: str = Field(min_length=1, description="The task, session, crawl or map id to stop.")


class TaskCancelOutput(ToolOutput):
    task_id: str
    cancelled: bool = Field(description="True if this call stopped it; False if it had already ended.")


async def task_cancel(context: ToolContext, args: TaskCancelInput) -> TaskCancelOutput:
    await context.sessions.confirm_owner(args.task_id, context.owner)
    if is_job_id(args.task_id):
        # Its pages so far stay readable with smooth_task_status.
        return TaskCancelOutput(
            task_id=args.task_id, cancelled=await context.crawls.cancel(args.task_id, context.owner)
        )
    cancelled = await context.client.cancel_task(args.task_id)
    context.sessions.ended(args.task_id)  # still its owner's, among their ended ids
    return TaskCancelOutput(task_id=args.task_id, cancelled=cancelled)


TASK_CANCEL = ToolDefinition(
    name="smooth_task_cancel",
    title="Cancel a task",
    description=(
        "Stop a running task, session, crawl or map so it uses no more credits (a crawl's pages so "
        "far stay readable with smooth_task_status). Cancelling twice is harmless."
    ),
    input_model=TaskCancelInput,
    output_model=TaskCancelOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True),
    run=task_cancel,
    lead=lambda r: f"Task {r.task_id} {'cancelled' if r.cancelled else 'had already ended'}.",
)
