"""Stopping a background task: its outcome is consumed, the caller's own cancellation is not."""

from __future__ import annotations

import asyncio

import pytest

from smooth_agents.cancellation import cancel_and_wait, wait_for_end


async def test_a_task_is_cancelled_and_its_end_awaited() -> None:
    cleaned = asyncio.Event()

    async def worker() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)  # cleanup that takes a moment
            cleaned.set()

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()
    assert cleaned.is_set()


async def test_the_tasks_own_failure_is_consumed_not_raised() -> None:
    async def failing() -> None:
        raise RuntimeError("a failed progress report")

    task = asyncio.create_task(failing())
    await wait_for_end(task)  # no RuntimeError here, and no "never retrieved" warning later
    assert isinstance(task.exception(), RuntimeError)
    await cancel_and_wait(task)  # an ended task: nothing to do


async def test_the_callers_cancellation_is_raised_not_swallowed() -> None:
    # The trap this helper exists for: `cancel(); with suppress(CancelledError): await task` in a
    # loop that is itself cancelled meanwhile swallows that cancellation and loops on.
    released = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await released.wait()

    target = asyncio.create_task(slow_to_stop())
    stopped_rounds = 0

    async def stopping_loop() -> None:
        nonlocal stopped_rounds
        while True:
            await cancel_and_wait(target)
            stopped_rounds += 1
            await asyncio.sleep(0.01)

    loop = asyncio.create_task(stopping_loop())
    await asyncio.sleep(0.05)  # the loop waits for the target's cleanup
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert stopped_rounds == 0
    assert not target.done()  # left to finish on its own, not cancelled a second time
    released.set()
    await wait_for_end(target)
    assert target.cancelled()
