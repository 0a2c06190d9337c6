"""One poller per task: reads the task's events once each and routes them.

- Action results go to the future registered for their event id.
- ``tool_call`` events run the matching custom tool exactly once and send its answer back.
- Status changes and events are published to subscribers (progress display, event iterators).

It polls only while somebody waits (an action, a result, a subscriber). Against a server that
announces long polling (``x-smooth-long-poll-max-ms``) each poll waits on the server for news, so
an action costs one POST and one GET. Elsewhere it polls on a timer whose schedule comes from the
client's ``Pacing`` (pacing.py): predicted from the durations seen for the same kind of action,
within one request budget for the whole client. The ``event_t`` cursor is kept one millisecond
behind the newest event seen when timer polling, and events are deduplicated by id: events sharing
a millisecond, duplicated or replayed by a retried poll are each handled once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from .cancellation import cancel_and_wait, wait_for_end
from .custom_tools import CustomTool
from .errors import APIError, SessionClosedError, SmoothError, ToolError
from .http import HttpCore, api_path
from .models import Task, TaskEvent, TaskUpdate, parse_answer
from .pacing import Pacing, PollSettings, Wait
from .protocol import LONG_POLL_HEADER

log = logging.getLogger("smooth_agents.polling")


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


class TaskPoller:
    def __init__(
        self,
        http: HttpCore,
        task_id: str,
        *,
        tools: Mapping[str, CustomTool] | None = None,
        settings: PollSettings | None = None,
        snapshot: Task | None = None,
        pacing: Pacing | None = None,
        final_kind: str | None = None,
    ) -> None:
        self.http = http
        self.task_id = task_id
        self.tools = dict(tools or {})
        # The tokens the task's model used, by model, once the server told (``model_usage``).
        self.model_usage: dict[str, dict[str, Any]] | None = None
        self.settings = settings or PollSettings()
        # Shared by the client's pollers (durations seen, round trip, request budget).
        self.pacing = pacing or Pacing(self.settings)
        # What waiting for the end is, for the prediction: "task" (a task run by this client,
        # timed from its start), "session_end" (a session closing, timed from the close), or
        # None (a task found by id: no prediction, nothing recorded).
        self._final = Wait(final_kind, time.monotonic())
        self._pending: dict[str, Wait] = {}  # by the action's event id
        self._poll_sent_at = 0.0
        self.snapshot = snapshot
        self.failure: BaseException | None = None
        self.tool_failure: BaseException | None = None
        self.final = asyncio.Event()
        self._seen: set[str] = set()
        self._last_t = 0
        self._waiters: dict[str, asyncio.Future[TaskEvent]] = {}
        self._subscribers: set[asyncio.Queue[TaskUpdate | None]] = set()
        self._result_waiters = 0
        self._wake = asyncio.Event()
        self._kicked_at = time.monotonic()
        self._runner: asyncio.Task[None] | None = None
        self._tool_runs: dict[str, asyncio.Task[None]] = {}
        self._answered: set[str] = set()
        self._started = time.monotonic()
        self._stopped = False  # aclose() was called: never poll again
        self._finished = False
        self._failing_since: float | None = None
        self._follow_to_end = False  # keep polling with nobody waiting (tools still to answer)
        self.on_final: list[Callable[[], None]] = []
        if snapshot is not None and not snapshot.active:
            self.final.set()

    # -- demand ---------------------------------------------------------------------------
    def expect(self, event_id: str, kind: str = "action") -> asyncio.Future[TaskEvent]:
        """Register interest in the event with this id, an action of ``kind`` (goto, extract...)
        about to be sent: its polls are timed from now."""
        if self.final.is_set():
            raise SessionClosedError(self._ended_message())
        future: asyncio.Future[TaskEvent] = asyncio.get_running_loop().create_future()
        self._waiters[event_id] = future
        self._pending[event_id] = Wait(kind, time.monotonic())
        return future

    def forget(self, event_id: str) -> None:
        self._waiters.pop(event_id, None)
        self._pending.pop(event_id, None)

    def kick(self) -> None:
        """Something was just sent (an action, a task, a tool's answer): start polling if nobody
        did, and let the schedule be worked out again from now."""
        self._kicked_at = time.monotonic()
        self._ensure_running()
        self._wake.set()

    async def wait_final(self) -> Task:
        if self._final.kind == "session_end" and not self._result_waiters:
            self._final = Wait("session_end", time.monotonic())  # timed from the close
        self._result_waiters += 1
        try:
            self.kick()
            await self.final.wait()
        finally:
            self._result_waiters -= 1
        if self.failure is not None:
            raise self.failure
        assert self.snapshot is not None
        return self.snapshot

    def subscribe(self) -> asyncio.Queue[TaskUpdate | None]:
        queue: asyncio.Queue[TaskUpdate | None] = asyncio.Queue()
        self._subscribers.add(queue)
        if self.final.is_set():
            queue.put_nowait(None)
        else:
            self.kick()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[TaskUpdate | None]) -> None:
        self._subscribers.discard(queue)

    def follow_to_end(self) -> None:
        """Keep polling until the task ends even with nobody waiting, so its custom tools keep
        being answered (for a task left running in the background)."""
        self._follow_to_end = True
        self.kick()

    def _demand(self) -> bool:
        return bool(
            self._waiters
            or self._result_waiters
            or self._subscribers
            or self._tool_runs
            or self._follow_to_end
        )

    # -- lifecycle ------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self.final.is_set() or self._stopped:
            return
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=f"smooth-poller-{self.task_id}")

    async def aclose(self) -> None:
        """Stop following the task; whoever still waits on it is told so (the remote task is
        not touched)."""
        self._stopped = True
        runner, self._runner = self._runner, None
        if runner is not None:
            await cancel_and_wait(runner)
        runs = list(self._tool_runs.values())
        for run in runs:
            run.cancel()
        for run in runs:
            await wait_for_end(run)
        if not self.final.is_set():
            self.failure = SessionClosedError(
                f"Task {self.task_id}: the client stopped following it (closed)."
            )
            self._finish()

    # -- the loop -------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while not self.final.is_set():
                if not self._demand():
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if self.pacing.long_poll_ms is None:
                    if not await self._wait_for_poll_time():
                        continue  # nobody waits any more
                    await self.pacing.budget.take()
                try:
                    await self._poll_once()
                except SmoothError as exc:
                    await self._survive(exc)
                else:
                    self._failing_since = None
        except asyncio.CancelledError:
            raise
        except SmoothError as exc:
            self.failure = exc
            self._finish()
        except Exception as exc:  # a bug of ours: surface it to every waiter rather than hang
            log.exception("poller for %s crashed", self.task_id)
            self.failure = exc
            self._finish()

    async def _wait_for_poll_time(self) -> bool:
        """Wait until the schedule says poll (True), or until nobody waits (False). A kick (an
        action sent, a tool answered) sets the schedule again rather than polling at once."""
        while self._demand():
            self._wake.clear()
            delay = self._next_delay()
            if delay <= 0:
                return True
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                return True
        return False

    def _next_delay(self) -> float:
        """Until the soonest poll any waiter needs: each pending action by its kind's predicted
        durations, a wait for the end by the task's, anything else (subscribers, tool calls in
        flight) as a kind never seen, from the last kick."""
        now = time.monotonic()
        cap = self.settings.tool_max_delay if self.tools else self.settings.max_delay
        delays = [self.pacing.delay(wait, now, cap=cap) for wait in self._pending.values()]
        if self._result_waiters:
            delays.append(self.pacing.delay(self._final, now, cap=cap))
        if not delays or self._subscribers or self._tool_runs or self._follow_to_end:
            delays.append(self.pacing.delay(Wait(None, self._kicked_at), now, cap=cap))
        return min(delays)

    async def _survive(self, exc: SmoothError) -> None:
        """A poll failed after the HTTP retries: wait and go on, or give up (re-raise)."""
        if isinstance(exc, APIError) and exc.status_code in (401, 403, 404):
            raise exc
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        failing_for = now - self._failing_since
        if failing_for >= self.settings.give_up_after:
            raise exc
        log.warning("polling %s failed (%s); trying again", self.task_id, exc)
        await asyncio.sleep(min(self.settings.max_failure_backoff, 0.25 + failing_for / 2))

    async def _poll_once(self) -> None:
        params: dict[str, Any]
        timeout: float | None = None
        long_poll_ms = self.pacing.long_poll_ms
        if long_poll_ms is not None:
            wait = min(long_poll_ms, self.settings.long_poll_ms)
            params = {"event_t": self._last_t, "wait_ms": wait}
            if self.snapshot is not None:
                params["known_status"] = self.snapshot.status
            timeout = self.http.timeout + wait / 1000
        else:
            params = {"event_t": max(0, self._last_t - 1)}
        self._poll_sent_at = sent = time.monotonic()
        reply = await self.http.request("GET", api_path("task", self.task_id), params=params, timeout=timeout)
        announced = reply.headers.get(LONG_POLL_HEADER)
        # Known client-wide (a new session long-polls from its first poll), and forgotten when a
        # server stops announcing it (polls that return at once must not run back to back).
        if announced and announced.isdigit() and self.settings.long_poll:
            self.pacing.long_poll_ms = int(announced)
        else:
            self.pacing.long_poll_ms = None
            self.pacing.observe_round_trip(time.monotonic() - sent)
            self.pacing.budget.succeeded()
        task = parse_answer(Task, reply.value, f"GET /task/{self.task_id}")
        previous = self.snapshot
        self.snapshot = task
        for event in task.events or []:
            self._handle_event(task, event)
        if previous is None or previous.status != task.status or previous.live_url != task.live_url:
            self._publish(task, None)
        timed_by_polls = self.pacing.long_poll_ms is None
        if not task.active:
            if self._result_waiters and timed_by_polls:
                self.pacing.learn(self._final, reported=None, found_by_poll_sent_at=sent)
            self._finish()
        elif timed_by_polls:
            # Not found by this poll: what is still awaited took longer than this.
            for awaited in [*self._pending.values(), self._final]:
                awaited.missed_by(sent)

    def _handle_event(self, task: Task, event: TaskEvent) -> None:
        key = event.id or f"{event.name}:{event.timestamp}:{json.dumps(event.payload, sort_keys=True)}"
        if key in self._seen:
            return
        self._seen.add(key)
        if event.timestamp is not None:
            self._last_t = max(self._last_t, event.timestamp)
        if event.name == "model_usage" and isinstance(event.payload.get("models"), dict):
            self.model_usage = {**(self.model_usage or {}), **event.payload["models"]}
        if event.name == "tool_call" and event.id is not None:
            self._start_tool(event)
        elif event.id is not None and event.id in self._waiters:
            self._record_duration(event)
            future = self._waiters.pop(event.id)
            if not future.done():
                future.set_result(event)
        self._publish(task, event)

    def _record_duration(self, event: TaskEvent) -> None:
        """How long the action took: the server's own figure where the answer has one, else (timer
        polls) what the polls saw of it."""
        wait = self._pending.pop(event.id or "", None)
        if wait is None:
            return
        output = event.payload.get("output")
        reported = output.get("duration") if isinstance(output, dict) else None
        valid = isinstance(reported, int | float) and not isinstance(reported, bool)
        self.pacing.learn(
            wait,
            reported=float(reported) if valid else None,  # type: ignore[arg-type]
            found_by_poll_sent_at=self._poll_sent_at if self.pacing.long_poll_ms is None else None,
        )

    def _publish(self, task: Task, event: TaskEvent | None) -> None:
        if not self._subscribers:
            return
        update = TaskUpdate(
            task_id=self.task_id,
            status=task.status,
            live_url=task.live_url,
            event=event,
            elapsed=time.monotonic() - self._started,
        )
        for queue in self._subscribers:
            queue.put_nowait(update)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.final.set()
        for callback in self.on_final:
            callback()
        for queue in self._subscribers:
            queue.put_nowait(None)
        error = self.failure if isinstance(self.failure, Exception) else None
        self._fail_waiters(error or SessionClosedError(self._ended_message()))

    def _fail_waiters(self, error: Exception) -> None:
        waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            if not future.done():
                future.set_exception(error)

    def _ended_message(self) -> str:
        task = self.snapshot
        if task is None:
            return f"Task {self.task_id} has ended."
        detail = f": {task.output}" if task.output not in (None, "") else ""
        return f"Session {self.task_id} has ended ({task.status}){detail}. Open a new session to go on."

    # -- custom tools -----------------------------------------------------------------------
    def _start_tool(self, event: TaskEvent) -> None:
        assert event.id is not None
        if event.id in self._answered or event.id in self._tool_runs:
            return
        if str(event.payload.get("name", "")) not in self.tools:
            # Not ours to answer: another handle (the one that declared the tool) owns it.
            return
        run = asyncio.create_task(self._run_tool(event), name=f"smooth-tool-{event.id}")
        self._tool_runs[event.id] = run
        run.add_done_callback(lambda _: self._tool_runs.pop(event.id or "", None))

    async def _run_tool(self, event: TaskEvent) -> None:
        assert event.id is not None
        name = str(event.payload.get("name", ""))
        arguments = event.payload.get("input") or {}
        tool = self.tools[name]
        code: int
        output: Any
        try:
            code, output = 200, _jsonable(await tool.invoke(arguments))
        except ToolError as exc:
            code, output = 400, str(exc)
        except Exception as exc:
            log.warning("custom tool %s failed: %s", name, exc)
            code = 500 if tool.essential else 400
            output = tool.error_message or f"{type(exc).__name__}: {exc}"
            if tool.essential:
                self.tool_failure = exc
        self._answered.add(event.id)
        answer = {"id": event.id, "name": "tool_call", "payload": {"code": code, "output": output}}
        await self._deliver(event.id, answer)
        self.kick()

    async def _deliver(self, call_id: str, answer: dict[str, Any]) -> None:
        """Send a tool's answer until the service has it: the tool ran once, and its answer must
        not be lost to a failed POST. Past ``give_up_after`` seconds of failures, the waiters get
        the error (a task left waiting on an answer would otherwise hang until their timeout)."""
        started = time.monotonic()
        backoff = 0.05
        while True:
            try:
                # Answering a call twice is harmless (the service keeps the first answer).
                await self.http.request(
                    "POST", api_path("task", self.task_id, "event"), json=answer, idempotent=True
                )
                return
            except APIError as exc:
                if exc.status_code < 500 and exc.status_code != 429:
                    log.warning("the answer to tool call %s was refused: %s", call_id, exc)
                    return  # the task no longer waits for it (ended, or answered already)
                error: SmoothError = exc
            except SmoothError as exc:  # connection errors
                error = exc
            if self.final.is_set():
                return  # the task ended meanwhile: nobody waits for the answer
            if time.monotonic() - started >= self.settings.give_up_after:
                self.failure = SmoothError(
                    f"The answer to custom tool call {call_id} could not be sent: {error}"
                )
                self._finish()
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.max_failure_backoff)
