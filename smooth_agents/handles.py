"""Handles on remote work: ``AsyncTaskHandle`` (a one-shot task); ``AsyncSession`` is in session.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .errors import NotFoundError, SmoothError, TaskFailedError, TaskTimeoutError
from .http import api_path
from .json_schemas import json_schema_problem
from .models import Task, TaskResult, TaskUpdate
from .polling import TaskPoller

if TYPE_CHECKING:
    from .http import HttpCore
    from .person import PersonTools


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
        *,
        person_tools: PersonTools | None = None,
    ) -> None:
        self._http = http
        self._poller = poller
        self._initial = task
        self._response_model = response_model
        # The person's tools offered to the task: ended with it, or when the handle is closed.
        self._person_tools = person_tools

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
            await self.end_person_tools()
        except TimeoutError:
            where = f" Watch it at {self.live_url}." if self.live_url else ""
            raise TaskTimeoutError(
                f"Task {self.id} is still {self.status} after {timeout:g} s; it goes on remotely.{where} "
                "Fetch it later by id, or cancel it."
            ) from None
        except asyncio.CancelledError:
            if cancel_on_abandon:
                await self._http.unstoppable(self._cancel_quietly())
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
            model_usage=self._poller.model_usage,
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

    @property
    def has_custom_tools(self) -> bool:
        """True when the task was given custom tools (the caller's, or the person's): someone must
        keep answering their calls while it runs."""
        return bool(self._poller.tools)

    def follow_to_end(self) -> None:
        """Keep following the task in the background until it ends (so its custom tools keep
        being answered) even though nobody awaits it; the client's close() stops this."""
        self._poller.follow_to_end()

    async def aclose(self) -> None:
        """Stop following the task (the remote task is not touched); the person's tools offered
        to it answer from then on that nobody can be asked."""
        await self.end_person_tools()
        await self._poller.aclose()

    async def end_person_tools(self) -> None:
        """The person can no longer be reached from here (the call that started the task has
        returned): the person's tools answer so from now on, and the host is told that hand-overs
        it showed have ended."""
        if self._person_tools is not None:
            await self._person_tools.close()
