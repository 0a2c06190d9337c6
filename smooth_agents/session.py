"""``AsyncSession``: an interactive browser session, its actions answered by event id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from . import hand_over as handing
from .errors import ActionError, BadRequestError, NotFoundError, SessionClosedError, SmoothError
from .handles import parse_output, schema_of
from .http import api_path
from .models import ActionResult, HandOverResult, Task, TaskEvent, parse_action_output
from .polling import TaskPoller
from .protocol import new_event_id

if TYPE_CHECKING:
    from .http import HttpCore


# How long close() waits for the service to report a gracefully closed session as ended.
CLOSE_SETTLE_SECONDS = 15.0


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
        self._hand_over: handing.PendingHandOver | None = None

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

    async def hand_over(
        self, message: str = "", *, timeout: float = handing.DEFAULT_TIMEOUT_SECONDS
    ) -> HandOverResult:
        """Give the browser to a person at the interactive live view
        (``live_view_link(session.live_url)``), who sees ``message`` there and a Done button; return
        when they press it, or when ``timeout`` seconds pass, the hand-over is cancelled
        (``cancel_hand_over``) or the session closes, with the page as it then is. Meanwhile the
        session's other actions wait their turn. If a hand-over started earlier on this handle
        is still pending (or was handed back and not yet read), this waits for that one instead.

        Raises ``HandOverUnsupportedError`` on a server without the action (the Smooth cloud)."""
        pending = handing.last_of(self)
        if pending is None or not pending.joinable:
            pending = await handing.start(self, message, timeout)
        return await pending.result()

    async def cancel_hand_over(self) -> bool:
        """End a pending hand-over (its result then says ``reason="cancelled"``); False when none
        was pending."""
        return await handing.cancel(self)

    async def close(self, *, force: bool = False) -> None:
        """Close the session (gracefully by default, so a profile is saved); safe to repeat."""
        if self._closed:
            return
        self._closed = True
        closing = False  # the service has taken the close
        try:
            if force or self._poller.final.is_set():
                await self._delete()
            else:
                try:
                    await self._action("session_action", "close", None, allow_closed=True)
                except (SessionClosedError, ActionError):
                    await self._delete()
                else:
                    closing = True
                    # Return once the service reports the session over, so whoever looks next
                    # (this program, a profile's next session) finds it closed.
                    with contextlib.suppress(SmoothError, TimeoutError):
                        await asyncio.wait_for(self._poller.wait_final(), CLOSE_SETTLE_SECONDS)
        except BaseException:
            # Cut short (the caller cancelled, or the request failed) before the service took
            # the close: the session would hold its browser until the service's idle timeout,
            # with this handle saying closed. Ended at once, even if this call is cancelled again.
            if not closing:
                await self._http.unstoppable(self._delete_quietly())
            raise
        finally:
            await self._poller.aclose()

    async def let_go(self) -> None:
        """Stop following the session and leave it open, for another process to drive (this
        handle is done with; the session is not, until closed or idle on the server)."""
        await self._poller.aclose()

    async def _delete(self) -> None:
        with contextlib.suppress(NotFoundError):  # already ended
            await self._http.request("DELETE", api_path("task", self.id))

    async def _delete_quietly(self) -> None:
        with contextlib.suppress(SmoothError):
            await self._delete()

    async def _action(
        self,
        event_name: str,
        action: str,
        action_input: Mapping[str, Any] | None,
        *,
        allow_closed: bool = False,
    ) -> ActionResult:
        event_id, future = await self._send(event_name, action, action_input, allow_closed=allow_closed)
        return await self._answer(action, event_id, future, self._action_timeout)

    async def _send(
        self,
        event_name: str,
        action: str,
        action_input: Mapping[str, Any] | None,
        *,
        allow_closed: bool = False,
    ) -> tuple[str, asyncio.Future[TaskEvent]]:
        """Send one action; its event id, and the future its answer will resolve."""
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
        return event_id, future

    async def _answer(
        self,
        action: str,
        event_id: str,
        future: asyncio.Future[TaskEvent],
        bound: float,
        *,
        refused: type[ActionError] = ActionError,
    ) -> ActionResult:
        """Wait up to ``bound`` seconds for an action's answer; a failure (code 400) is raised as
        ``refused``."""
        try:
            event = await asyncio.wait_for(future, bound)
        except TimeoutError:
            self._poller.forget(event_id)
            raise ActionError(action, f"no result within {bound:g} s") from None
        code = event.payload.get("code")
        output = event.payload.get("output")
        if code == 200:
            result = parse_action_output(output)
            result.event_id = event_id
            return result
        if code == 400:
            raise refused(action, str(output))
        raise ActionError(action, f"the service failed (code {code}): {output}")
