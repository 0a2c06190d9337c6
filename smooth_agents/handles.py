"""Handles on remote work: ``AsyncTaskHandle`` (a one-shot task) and ``AsyncSession``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .errors import (
    ActionError,
    BadRequestError,
    NotFoundError,
    SessionClosedError,
    SmoothError,
    TaskFailedError,
    TaskTimeoutError,
)
from .http import api_path
from .models import ActionResult, Task, TaskResult, TaskUpdate, parse_action_output
from .polling import TaskPoller
from .protocol import json_schema_problem, new_event_id

if TYPE_CHECKING:
    from .http import HttpCore


# How long close() waits for the service to report a gracefully closed session as ended.
CLOSE_SETTLE_SECONDS = 15.0


def schema_of(model: dict[str, Any] | type[BaseModel] | None) -> dict[str, Any] | None:
    """A JSON schema from a dict or a pydantic model class; a broken schema fails here, before
    anything is sent (and before any credit is spent)."""
    if model is None:
        return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema()
    if isinstance(model, dict):
        check_json_schema(model)
        return model
    raise TypeError(f"response_model must be a JSON schema dict or a pydantic model class, not {model!r}")


def check_json_schema(schema: dict[str, Any]) -> None:
    problem = json_schema_problem(schema)
    if problem is not None:
        where, message = problem
        raise ValueError(f"Invalid JSON schema at {where or 'the top level'}: {message}")


def parse_output(model: dict[str, Any] | type[BaseModel] | None, output: Any) -> Any:
    if isinstance(model, type) and issubclass(model, BaseModel) and output is not None:
        return model.model_validate(output)
    return output


class AsyncTaskHandle:
    """A submitted task: wait for its result, follow its progress, or cancel it."""

    def __init__(
        self,
        http: HttpCore,
        poller: TaskPoller,
        task: Task,
        response_model: dict[str, Any] | type[BaseModel] | None = None,
    ) -> None:
        self._http = http
        self._poller = poller
        self._initial = task
        self._response_model = response_model

    @property
    def id(self) -> str:
        return self._initial.id

    @property
    def task(self) -> Task:
        """The latest known state of the task."""
        return self._poller.snapshot or self._initial

    @property
    def status(self) -> str:
        return self.task.status

    @property
    def live_url(self) -> str | None:
        return self.task.live_url or self._initial.live_url

    def __repr__(self) -> str:
        return f"AsyncTaskHandle(id={self.id!r}, status={self.status!r})"

    async def result(self, timeout: float | None = None, *, cancel_on_abandon: bool = True) -> TaskResult:
        """Wait for the end and return the result; raise ``TaskFailedError`` if it failed.

        ``timeout`` bounds the wait (``TaskTimeoutError``; the task goes on). If the awaiting
        coroutine is cancelled, the remote task is cancelled too unless ``cancel_on_abandon`` is
        False, so no credits burn for an abandoned call.
        """
        try:
            task = await asyncio.wait_for(self._poller.wait_final(), timeout)
        except TimeoutError:
            where = f" Watch it at {self.live_url}." if self.live_url else ""
            raise TaskTimeoutError(
                f"Task {self.id} is still {self.status} after {timeout:g} s; it goes on remotely.{where} "
                "Fetch it later by id, or cancel it."
            ) from None
        except asyncio.CancelledError:
            if cancel_on_abandon:
                await asyncio.shield(self._cancel_quietly())
            raise
        if task.status != "done":
            raise TaskFailedError(task.id, task.status, task.output) from self._poller.tool_failure
        return TaskResult(
            id=task.id,
            status=task.status,
            output=parse_output(self._response_model, task.output),
            credits_used=task.credits_used,
            live_url=task.live_url,
            recording_url=task.recording_url,
        )

    async def _cancel_quietly(self) -> None:
        with contextlib.suppress(SmoothError):
            await self.cancel()

    async def cancel(self) -> bool:
        """Cancel the remote task; False when it had already ended."""
        try:
            await self._http.request("DELETE", api_path("task", self.id))
        except NotFoundError:
            return False
        return True

    async def updates(self) -> AsyncGenerator[TaskUpdate, None]:
        """Progress as it happens: status changes, the live URL, each event; ends with the task."""
        queue = self._poller.subscribe()
        try:
            while True:
                update = await queue.get()
                if update is None:
                    return
                yield update
        finally:
            self._poller.unsubscribe(queue)

    async def wait_live_url(self, timeout: float = 30.0) -> str | None:
        """The live URL, waiting for the service to publish it (None if the task ended first)."""
        if self.live_url:
            return self.live_url
        async with asyncio.timeout(timeout):
            async for update in self.updates():
                if update.live_url:
                    return update.live_url
        return self.live_url

    def follow_to_end(self) -> None:
        """Keep following the task in the background until it ends (so its custom tools keep
        being answered) even though nobody awaits it; the client's close() stops this."""
        self._poller.follow_to_end()

    async def aclose(self) -> None:
        """Stop following the task (the remote task is not touched)."""
        await self._poller.aclose()


class AsyncSession:
    """An interactive browser session: actions one at a time, results by event id."""

    def __init__(
        self, http: HttpCore, poller: TaskPoller, task: Task, *, action_timeout: float = 300.0
    ) -> None:
        self._http = http
        self._poller = poller
        self._task = task
        self._action_timeout = action_timeout
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once closed here, or once the session was seen to end remotely."""
        return self._closed or self._poller.final.is_set()

    @property
    def id(self) -> str:
        return self._task.id

    @property
    def live_url(self) -> str | None:
        current = self._poller.snapshot
        return (current.live_url if current else None) or self._task.live_url

    def __repr__(self) -> str:
        return f"AsyncSession(id={self.id!r}, closed={self.closed})"

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        await self.close(force=exc_type is not None)

    async def goto(self, url: str) -> ActionResult:
        return await self._action("browser_action", "goto", {"url": url})

    async def extract(
        self, schema: dict[str, Any] | type[BaseModel], prompt: str | None = None
    ) -> ActionResult:
        """Structured data from the current page; with a model class the output is an instance."""
        result = await self._action(
            "browser_action", "extract", {"schema": schema_of(schema), "prompt": prompt}
        )
        result.output = parse_output(schema, result.output)
        return result

    async def evaluate_js(self, code: str, args: Mapping[str, Any] | None = None) -> ActionResult:
        return await self._action("browser_action", "evaluate_js", {"js": code, "args": args})

    async def run_task(
        self,
        task: str,
        response_model: dict[str, Any] | type[BaseModel] | None = None,
        *,
        max_steps: int = 32,
        url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ActionResult:
        """Let the agent do a task in this session's browser."""
        action_input = {
            "task": task,
            "max_steps": max_steps,
            "response_model": schema_of(response_model),
            "url": url,
            "metadata": dict(metadata) if metadata else None,
        }
        result = await self._action("session_action", "run_task", action_input)
        result.output = parse_output(response_model, result.output)
        return result

    async def close(self, *, force: bool = False) -> None:
        """Close the session (gracefully by default, so a profile is saved); safe to repeat."""
        if self._closed:
            return
        self._closed = True
        try:
            if force or self._poller.final.is_set():
                await self._delete()
            else:
                try:
                    await self._action("session_action", "close", None, allow_closed=True)
                except (SessionClosedError, ActionError):
                    await self._delete()
                else:
                    # Return once the service reports the session over, so whoever looks next
                    # (this program, a profile's next session) finds it closed.
                    with contextlib.suppress(SmoothError, TimeoutError):
                        await asyncio.wait_for(self._poller.wait_final(), CLOSE_SETTLE_SECONDS)
        finally:
            await self._poller.aclose()

    async def _delete(self) -> None:
        with contextlib.suppress(NotFoundError):  # already ended
            await self._http.request("DELETE", api_path("task", self.id))

    async def _action(
        self,
        event_name: str,
        action: str,
        action_input: Mapping[str, Any] | None,
        *,
        allow_closed: bool = False,
    ) -> ActionResult:
        if self._closed and not allow_closed:
            raise SessionClosedError(f"Session {self.id} is closed; open a new session to go on.")
        event_id = new_event_id()
        future = self._poller.expect(event_id, action)
        payload: dict[str, Any] = {"name": action}
        if action_input is not None:
            payload["input"] = dict(action_input)
        try:
            # The event id is ours, so a resend after a lost answer is recognised, not redone.
            await self._http.request(
                "POST",
                api_path("task", self.id, "event"),
                json={"id": event_id, "name": event_name, "payload": payload},
                idempotent=True,
            )
        except BadRequestError as exc:
            self._poller.forget(event_id)
            if "closed" in str(exc.detail).lower():
                self._closed = True
                raise SessionClosedError(f"Session {self.id} is closed: {exc.detail}") from None
            raise
        except BaseException:
            self._poller.forget(event_id)
            raise
        self._poller.kick()
        try:
            event = await asyncio.wait_for(future, self._action_timeout)
        except TimeoutError:
            self._poller.forget(event_id)
            raise ActionError(action, f"no result within {self._action_timeout:g} s") from None
        code = event.payload.get("code")
        output = event.payload.get("output")
        if code == 200:
            result = parse_action_output(output)
            result.event_id = event_id
            return result
        if code == 400:
            raise ActionError(action, str(output))
        raise ActionError(action, f"the service failed (code {code}): {output}")
