"""Client events for a task: validated, then queued (session actions) or handed to the agent
waiting on them (custom tool answers)."""

from __future__ import annotations

from typing import Any

from ...protocol import CANCEL_HAND_OVER, HAND_OVER, new_event_id
from ..errors import BadRequest
from ..extraction import InvalidSchemaError, check_schema
from ..schemas import (
    EvaluateJsInput,
    EventRequest,
    ExtractInput,
    GotoInput,
    HandOverInput,
    RunTaskInput,
    ToolAnswer,
    parse_body,
)
from .task import QueuedAction, Task

BROWSER_ACTIONS = frozenset({"goto", "extract", "evaluate_js", "exec_js", HAND_OVER, CANCEL_HAND_OVER})
SESSION_ACTIONS = frozenset({"run_task", "close"})


def accept_event(task: Task, body: Any) -> str:
    """Validate a client event and queue it (an action) or hand it over (a tool answer); the
    event id is the answer."""
    event = parse_body(EventRequest, body)
    if event.name == "tool_call":
        return answer_tool_call(task, event)
    if event.name not in ("browser_action", "session_action"):
        raise BadRequest(
            f"Unknown event name {event.name!r}: use browser_action, session_action or tool_call."
        )
    if event.id is not None and event.id in task.accepted_event_ids:
        return event.id  # a retried POST: the action is already queued or done
    if not task.active or task.close_event_id is not None:
        state = task.status if not task.active else "closing"
        raise BadRequest(f"Task {task.id!r} is {state}: the session is closed.")
    if not task.is_session:
        raise BadRequest(
            f"Task {task.id!r} is a one-shot task, not a session: it takes only tool_call answers."
        )
    action = parse_action(event)
    _note_hand_over(task, action)
    task.touch()
    if action.id is not None:
        task.accepted_event_ids.add(action.id)
        task.client_actions[action.id] = (action.action, _target(action))
    task.actions.put_nowait(action)
    return action.id or ""


def parse_action(event: EventRequest) -> QueuedAction:
    name = event.payload.get("name")
    allowed = BROWSER_ACTIONS if event.name == "browser_action" else SESSION_ACTIONS
    if name not in allowed:
        raise BadRequest(f"Unknown {event.name} {name!r}: use one of {sorted(allowed)}.")
    raw_input = event.payload.get("input") or {}
    models: dict[str, type[Any]] = {
        "goto": GotoInput,
        "extract": ExtractInput,
        "evaluate_js": EvaluateJsInput,
        "exec_js": EvaluateJsInput,
        "run_task": RunTaskInput,
        HAND_OVER: HandOverInput,
    }
    parsed: Any = None
    if name in models:
        parsed = parse_body(models[name], raw_input)
    if name == "extract":
        try:
            check_schema(parsed.schema_)
        except InvalidSchemaError as exc:
            raise BadRequest(str(exc)) from None
    if name == "run_task" and parsed.response_model is not None:
        try:
            check_schema(parsed.response_model)
        except InvalidSchemaError as exc:
            raise BadRequest(str(exc)) from None
    event_id = event.id or new_event_id()
    return QueuedAction(event_id, event.name, str(name), parsed)


def _note_hand_over(task: Task, action: QueuedAction) -> None:
    """What an action means for the session's hand-overs, decided as it arrives: the worker waits
    in a pending hand-over, so a cancel or a close queued behind it would come too late."""
    if action.action == HAND_OVER and action.id is not None:
        task.hand_overs.expect(action.id)
    elif action.action == CANCEL_HAND_OVER:
        action.input = {"cancelled": task.hand_overs.cancel()}
    elif action.action == "close":
        task.hand_overs.cancel("closed")


def _target(action: QueuedAction) -> str:
    """What an action acts on, as a watcher reads it: the address, or the task's text."""
    data = action.input
    if action.action == "goto":
        return str(data.url)
    if action.action == "run_task":
        return str(data.task)
    return ""


def answer_tool_call(task: Task, event: EventRequest) -> str:
    answer = parse_body(ToolAnswer, event.payload)
    if event.id in task.answered_tool_calls:
        return event.id  # answered already (a retried POST): the first answer stands
    future = task.tool_calls.get(event.id or "")
    if future is None or future.done():
        raise BadRequest(f"Task {task.id!r} has no pending tool call with id {event.id!r}.")
    assert event.id is not None
    task.answered_tool_calls[event.id] = (answer.code, answer.output)
    future.set_result((answer.code, answer.output))
    task.touch()
    return event.id or ""
