"""The fault matrix: every request kind of the client under every fault, for a session and for a
task with a custom tool, over long polling and timer polling.

Each cell asserts what matters to a caller: no result lost (every answer arrives, correct), no
action or tool run twice, no hang (each cell is bounded in time), and nothing left running. The one
kind of cell that must fail is a task creation the server may have applied (a 500, or a reset after
the request left): the client cannot know whether the task exists, so it reports the failure
instead of resending, and at most one task is created.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from smooth_agents import AsyncSmoothClient, SmoothError
from tests.faults import (
    EVENT,
    TASK,
    Fault,
    FaultInjector,
    ResettingTransport,
    duplicate_events,
    reverse_events,
    same_timestamp,
    script,
)

CREATE = r"/api/v1/task"
CELL_SECONDS = 30.0  # far above a cell's normal second or two: reaching it is a hang


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    workloads: tuple[str, ...]  # which workloads make this request
    after: int = 0  # requests of this method and path that come first in the workload


KINDS = [
    Kind("create", "POST", CREATE, ("session", "tool", "cancel")),
    Kind("poll", "GET", TASK, ("session", "tool")),
    Kind("action", "POST", EVENT, ("session",)),  # a session action: evaluate_js here
    Kind("close", "POST", EVENT, ("session",), after=2),  # the session's close, after two actions
    Kind("tool-answer", "POST", EVENT, ("tool",)),  # a custom tool's answer to the task
    Kind("cancel", "DELETE", TASK, ("cancel",)),
]
FAULTS = ["500", "429", "reset-after-send", "refused-before-send"]

# Faults after which the request may have taken effect on a request that cannot be resent safely.
MUST_FAIL = {("create", "500"), ("create", "reset-after-send")}

MATRIX = [
    pytest.param(kind, fault, workload, id=f"{workload}-{kind.name}-{fault}")
    for kind in KINDS
    for fault in FAULTS
    for workload in kind.workloads
]


class Replay:
    """Answers each poll with every event an earlier poll of the task carried, then the new ones:
    old events delivered again, as a proxy replaying a cached answer would."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Any]] = {}

    def __call__(self, body: Any) -> Any:
        task = body["r"]
        earlier = self.seen.setdefault(task["id"], [])
        events = task.get("events") or []
        task["events"] = [*earlier, *events]
        earlier.extend(events)
        return body


def inject(kind: Kind, fault: str, injector: FaultInjector, transport: ResettingTransport) -> Any:
    """Arm one fault on the next requests of one kind; returns what counts its firing."""
    if fault == "500":
        return injector.add(Fault(kind.method, kind.path, times=2, status=500, after=kind.after))
    if fault == "429":
        retry_after = {"Retry-After": "0.05"}
        return injector.add(
            Fault(kind.method, kind.path, times=2, status=429, headers=retry_after, after=kind.after)
        )
    before_sending = fault == "refused-before-send"
    transport.reset_next(kind.method, kind.path, before_sending=before_sending, after=kind.after)
    return transport


def fired(armed: Any) -> bool:
    return bool(armed.hits if isinstance(armed, Fault) else armed.resets)


async def session_workload(client: AsyncSmoothClient) -> str:
    """Two counting actions (each must run once) and a close; the session id."""
    async with client.session() as session:
        first = await session.evaluate_js("window.n = (window.n || 0) + 1")
        second = await session.evaluate_js("window.n = (window.n || 0) + 1")
        assert (first.output, second.output) == (1, 2)  # each action ran once, none lost
    assert session.closed
    return session.id


async def tool_workload(client: AsyncSmoothClient) -> str:
    """A task calling a custom tool twice (each call must run once); the task id."""
    calls: list[int] = []

    def count(n: int) -> int:
        """Record a call."""
        calls.append(n)
        return n * 10

    steps = script(
        {"action": "tool", "name": "count", "input": {"n": 1}},
        {"action": "tool", "name": "count", "input": {"n": 2}},
        {"action": "return", "from": "all"},
    )
    handle = await client.run(steps, custom_tools=[count])
    result = await handle.result(timeout=CELL_SECONDS)
    assert calls == [1, 2]  # no tool ran twice, none was skipped
    assert result.output == [10, 20]
    return handle.id


async def cancel_workload(client: AsyncSmoothClient) -> str:
    """A long task, cancelled; the task id."""
    handle = await client.run(script({"action": "sleep", "seconds": 60}))
    assert await client.cancel_task(handle.id)
    return handle.id


WORKLOADS = {"session": session_workload, "tool": tool_workload, "cancel": cancel_workload}


async def ended(client: AsyncSmoothClient, task_id: str) -> str:
    status = ""
    for _ in range(100):
        status = (await client.get_task(task_id)).status
        if status not in ("waiting", "running"):
            break
        await asyncio.sleep(0.05)
    return status


@pytest.mark.parametrize(("kind", "fault", "workload"), MATRIX)
async def test_fault_matrix(
    faulty_client: AsyncSmoothClient,
    injector: FaultInjector,
    transport: ResettingTransport,
    kind: Kind,
    fault: str,
    workload: str,
) -> None:
    client = faulty_client
    before = {task.id for task in await client.list_tasks()}
    armed = inject(kind, fault, injector, transport)
    run = WORKLOADS[workload]
    async with asyncio.timeout(CELL_SECONDS):
        if (kind.name, fault) in MUST_FAIL:
            with pytest.raises(SmoothError):
                await run(client)
            created = {task.id for task in await client.list_tasks()} - before
            assert len(created) <= 1  # reported, not resent
            for task_id in created:  # the reset let it through: it exists, and is stopped here
                await client.cancel_task(task_id)
        else:
            task_id = await run(client)
            assert {task.id for task in await client.list_tasks()} - before == {task_id}
            assert await ended(client, task_id) in ("done", "cancelled")  # nothing left running
    assert fired(armed), "the fault never fired: the cell tested nothing"


@pytest.mark.parametrize(
    "rewrite",
    [duplicate_events, reverse_events, same_timestamp, Replay()],
    ids=["duplicated", "reordered", "same-timestamp", "replayed"],
)
@pytest.mark.parametrize("workload", ["session", "tool"])
async def test_odd_event_streams(
    faulty_client: AsyncSmoothClient, injector: FaultInjector, rewrite: Any, workload: str
) -> None:
    fault = injector.add(Fault("GET", TASK, times=-1, rewrite=rewrite))
    async with asyncio.timeout(CELL_SECONDS):
        task_id = await WORKLOADS[workload](faulty_client)
    assert fault.hits > 0
    injector.clear()
    assert await ended(faulty_client, task_id) in ("done", "cancelled")
