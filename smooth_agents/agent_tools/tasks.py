"""smooth_task_status and smooth_task_cancel: follow up on a task started by smooth_browse."""

from __future__ import annotations

from pydantic import Field

from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .browse import TaskOutput, task_output
from .browse import summarize as summarize_task


class TaskStatusInput(ToolInput):
    task_id: str = Field(min_length=1, description="The task_id smooth_browse returned.")
    start_index: int = Field(default=0, ge=0, description="Where to continue reading a long text answer.")


async def task_status(context: ToolContext, args: TaskStatusInput) -> TaskOutput:
    task = await context.client.get_task(args.task_id)
    result = task_output(
        task.id, task.status, task.output, task.live_url, args.start_index, context.settings.content_budget
    )
    if task.active:
        result.message = "Still running; call again later, or smooth_task_cancel to stop it."
    return result


TASK_STATUS = ToolDefinition(
    name="smooth_task_status",
    title="Check a task",
    description=(
        "Get the status and answer of a task smooth_browse started (it returns the task_id when it "
        "answers 'running'). Use start_index to read the rest of a long answer."
    ),
    input_model=TaskStatusInput,
    output_model=TaskOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=task_status,
    summarize=summarize_task,
)


class TaskCancelInput(ToolInput):
    task_id: str = Field(min_length=1, description="The task or session id to stop.")


class TaskCancelOutput(ToolOutput):
    task_id: str
    cancelled: bool = Field(description="True if this call stopped it; False if it had already ended.")


async def task_cancel(context: ToolContext, args: TaskCancelInput) -> TaskCancelOutput:
    return TaskCancelOutput(task_id=args.task_id, cancelled=await context.client.cancel_task(args.task_id))


TASK_CANCEL = ToolDefinition(
    name="smooth_task_cancel",
    title="Cancel a task",
    description="Stop a running task (or session) so it uses no more credits. Cancelling twice is harmless.",
    input_model=TaskCancelInput,
    output_model=TaskCancelOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True),
    run=task_cancel,
    summarize=lambda r: f"Task {r.task_id} {'cancelled' if r.cancelled else 'had already ended'}.",
)
