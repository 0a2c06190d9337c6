"""The engine behind the routes: tasks and sessions, their workers, limits and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

from ...cancellation import cancel_and_wait
from ...protocol import CANCEL_HAND_OVER, HAND_OVER, HAND_OVER_TOOL, MAX_TOKENS, TaskStatus
from ..agents.builtin import default_agent_selector
from ..agents.extract import extract_filling_gaps
from ..agents.handover import HandOverEnd, page_report
from ..agents.model import load_model_agent
from ..agents.seam import AgentContext, AgentError, AgentSelector
from ..browser.chromium import BrowserProvider
from ..browser.pool import PoolUnavailable
from ..browser.session import BrowserSession
from ..browser.url_policy import BlockedUrlError, UrlPolicy, check_navigation_url
from ..errors import (
    ActionFailed,
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from ..extraction import InvalidSchemaError, check_schema
from ..files.storage import Storage, StoredFile
from ..files.task_files import TaskFiles, sweep
from ..schemas import (
    RunTaskInput,
    TaskRequest,
    parse_body,
)
from ..settings import LocalServerSettings
from .events import accept_event
from .task import QueuedAction, Task

log = logging.getLogger("smooth_agents.local")

REAPER_INTERVAL = 1.0
# How long a gracefully closed session stays "running" waiting for a poll to carry its close
# result. The official SDK stops reading events once it sees a final status, so the result of
# `close` must reach it while the task still runs.
CLOSE_DELIVERY_GRACE = 10.0


# How long a task's agent waits for its person: what the caller's hand_over tool answers, within
# the bound the hand_over action has; this long when it says nothing.
DEFAULT_HAND_OVER = 600.0
MAX_HAND_OVER = 86_400.0


def token_budget(metadata: Mapping[str, Any] | None, server_bound: int | None) -> int | None:
    """The tokens a task's model may use: its metadata's ``max_tokens`` (a positive whole number),
    never past the server's own bound."""
    asked = (metadata or {}).get(MAX_TOKENS)
    if isinstance(asked, str) and asked.strip().isdigit():
        asked = int(asked)
    wanted = asked if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0 else None
    bounds = [b for b in (wanted, server_bound) if b is not None]
    return min(bounds) if bounds else None


def _action_result(output: Any, started: float) -> dict[str, Any]:
    return {
        "code": 200,
        "output": {"output": output, "credits_used": 0, "duration": round(time.perf_counter() - started, 4)},
    }


class LocalRuntime:
    """Owns every task, the browser provider and the disk store."""

    def __init__(
        self,
        settings: LocalServerSettings,
        *,
        agent_selector: AgentSelector | None = None,
        browser_provider: BrowserProvider | None = None,
    ) -> None:
        self.settings = settings
        self.storage = Storage(settings.data_dir)
        self.browsers = browser_provider or BrowserProvider(
            executable=settings.browser_executable,
            ws_endpoint=settings.browser_ws_endpoint,
            cdp_endpoint=settings.browser_cdp_endpoint,
            headless=settings.headless,
            endpoint_capacity=settings.browser_endpoint_capacity,
            health_interval=settings.browser_health_interval,
            spare=settings.spare_context,
        )
        # The model's agent, when a model is configured: it does plain-language tasks and fills
        # what the deterministic extraction leaves empty.
        self.model_agent = load_model_agent(settings.model) if settings.model is not None else None
        self.select_agent = agent_selector or default_agent_selector(
            settings.enable_scripted_agent, self.model_agent
        )
        self.tasks: dict[str, Task] = {}
        # Each task's downloads and recording, in a folder of its own (deleted with the task).
        self.files_root = settings.data_dir / "task-files"
        self._reaper: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        # Folders a killed server left behind (no task of a live server is that old).
        sweep(self.files_root, self.settings.task_retention + self.settings.max_task_duration)
        self._reaper = asyncio.create_task(self._reap_forever(), name="smooth-local-reaper")

    async def aclose(self) -> None:
        """Cancel every running task, close every context, the browser and the driver."""
        self._closing = True
        if self._reaper is not None:
            await cancel_and_wait(self._reaper)
        for task in list(self.tasks.values()):
            if task.active:
                await self._stop(task, "cancelled", "The local server shut down.")
        await self.browsers.aclose()
        # Tasks live in this process only: their files would be reachable by no one.
        for task in self.tasks.values():
            if task.files is not None:
                task.files.delete()

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAPER_INTERVAL)
            try:
                await self.reap()
            except Exception:  # keep reaping: one failed close must not end the limits for all
                log.exception("local task reaper")

    async def reap(self) -> None:
        """End sessions idle past the idle timeout and tasks past the maximum duration; forget
        finished tasks past their retention."""
        now = time.monotonic()
        wall = time.time()
        self._forget_finished(now)
        for task in list(self.tasks.values()):
            if not task.active:
                continue
            if task.browser is not None and (
                task.browser.lost or self.browsers.loss_reason(task.browser.context)
            ):
                await self._stop(
                    task,
                    "failed",
                    self.browsers.loss_reason(task.browser.context)
                    or "The browser stopped under this task (it crashed or was killed); start a new one.",
                )
            elif wall - task.created_at > self.settings.max_task_duration:
                await self._stop(
                    task,
                    "failed",
                    f"The task ran longer than the maximum duration of {self.settings.max_task_duration:g} s "
                    "(max_task_duration).",
                )
            elif (
                task.is_session
                and task.actions.empty()
                and not task.busy
                and now - task.last_activity > self.settings.session_idle_timeout
            ):
                await self._stop(
                    task,
                    "done",
                    f"The session was closed after {self.settings.session_idle_timeout:g} s without actions "
                    "(idle timeout).",
                )

    def _forget_finished(self, now: float) -> None:
        finished = sorted(
            (t for t in self.tasks.values() if not t.active and t.finished_at is not None),
            key=lambda t: t.finished_at or 0.0,
        )
        excess = len(finished) - self.settings.max_finished_tasks
        for index, task in enumerate(finished):
            if index < excess or now - (task.finished_at or now) > self.settings.task_retention:
                self.tasks.pop(task.id, None)
                if task.files is not None:
                    task.files.delete()

    # -- tasks ----------------------------------------------------------------------------
    def active_count(self) -> int:
        return sum(1 for t in self.tasks.values() if t.active)

    def get(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFound(f"Task {task_id!r} not found.")
        return task

    def list_tasks(self, since: int | None, limit: int | None) -> list[Task]:
        found = [t for t in self.tasks.values() if since is None or t.created_at >= since]
        found.sort(key=lambda t: t.created_at, reverse=True)
        return found[:limit] if limit else found

    def parse_task_request(self, body: Any) -> TaskRequest:
        request = parse_body(TaskRequest, body)
        if request.response_model is not None:
            try:
                check_schema(request.response_model)
            except InvalidSchemaError as exc:
                raise ValidationFailed(
                    [{"loc": ["body", "response_model"], "msg": str(exc), "type": "invalid_schema"}]
                ) from None
        return request

    def _check_features(self, request: TaskRequest) -> None:
        if request.certificates:
            raise Forbidden("Client certificates are not available on the local server.")
        if request.extensions:
            raise Forbidden(
                "Loading extensions into a task is not available on the local server "
                "(uploading, listing and deleting them is)."
            )
        if request.proxy_server == "self":
            raise Forbidden('proxy_server="self" is not available on the local server.')

    def _resolve_files(self, file_ids: list[str] | None) -> list[StoredFile]:
        files: list[StoredFile] = []
        for file_id in file_ids or []:
            try:
                files.append(self.storage.get_file(file_id))
            except NotFound:
                raise BadRequest(f"Unknown file id {file_id!r}: upload it with POST /file first.") from None
        return files

    async def submit(self, request: TaskRequest) -> Task:
        if self._closing:
            raise TooManyRequests("The local server is shutting down.")
        self._check_features(request)
        if request.url is not None:
            try:
                check_navigation_url(request.url)
            except BlockedUrlError as exc:
                raise BadRequest(str(exc)) from None
        try:
            policy = UrlPolicy(request.allowed_urls)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        if request.url is not None and not policy.allows(request.url):
            raise BadRequest(
                f"The start url {request.url!r} matches none of allowed_urls {list(policy.patterns)}."
            )
        profile_id = request.effective_profile_id
        if profile_id is not None and not self.storage.profile_exists(profile_id):
            raise BadRequest(f"Unknown profile_id {profile_id!r}: create it with POST /profile first.")
        files = self._resolve_files(request.files)
        # Every browser of a pool full or out (it may wait on one being tried again: before the
        # count below, which nothing may come between and the task's creation).
        if (refused := await self.browsers.refusal()) is not None:
            raise ApiError(str(refused), refused.status)
        if self.active_count() >= self.settings.max_concurrent_sessions:
            raise TooManyRequests(
                f"Concurrent session limit reached ({self.settings.max_concurrent_sessions} running). "
                "Close a session or wait for a task to finish, then retry."
            )
        task = Task(id="task_" + secrets.token_hex(10), request=request, is_session=request.task is None)
        task.files = TaskFiles(
            self.files_root / task.id,
            max_bytes=self.settings.max_download_bytes,
            record=self.settings.recording and request.enable_recording,
            report=lambda payload: task.emit("download", payload),
        )
        self.tasks[task.id] = task
        task.runner = asyncio.create_task(self._run(task, policy, files), name=f"smooth-task-{task.id}")
        if task.is_session:
            await task.opened.wait()
            if task.status == "failed" and task.refused is not None:
                # Another request took the pool's last room between the check above and here.
                raise ApiError(*task.refused)
            if task.status == "failed":
                raise BadRequest(f"The session could not start: {task.output}")
        return task

    async def _open_browser(self, task: Task, policy: UrlPolicy, files: list[StoredFile]) -> BrowserSession:
        request = task.request
        profile_id = request.effective_profile_id
        proxy = None
        if request.proxy_server:
            proxy = {"server": request.proxy_server}
            if request.proxy_username:
                proxy["username"] = request.proxy_username
            if request.proxy_password:
                proxy["password"] = request.proxy_password
        outputs = task.files
        session = await BrowserSession.open(
            self.browsers,
            device=request.device,
            policy=policy,
            action_timeout=self.settings.action_timeout,
            storage_state=self.storage.profile_path(profile_id) if profile_id else None,
            proxy=proxy,
            files=[f.path for f in files],
            record_to=outputs.recording if outputs is not None and outputs.record else None,
        )
        if outputs is not None:
            session.on_download = outputs.collect
            if session.recording_note:  # asked for, and not to be had
                task.emit("recording", {"recorded": False, "reason": session.recording_note})
        return session

    async def _run(self, task: Task, policy: UrlPolicy, files: list[StoredFile]) -> None:
        status: TaskStatus = "done"
        output: Any = None
        try:
            try:
                task.browser = await self._open_browser(task, policy, files)
            except PoolUnavailable as exc:
                task.refused = (str(exc), exc.status)
                raise AgentError(str(exc)) from None
            except Exception as exc:
                log.exception("could not open a browser context for %s", task.id)
                raise AgentError(f"Could not start the browser: {type(exc).__name__}: {exc}") from None
            if not task.active:  # cancelled while the context opened
                return
            if task.is_session and task.request.url:
                # Loaded before the session is reported open: a start page that does not load
                # fails the open (not a session showing a browser error page), and no action
                # can race the first navigation.
                try:
                    await task.browser.goto(task.request.url)
                except ActionFailed as exc:
                    raise AgentError(str(exc)) from None
            task.mark_running()
            task.touch()
            task.opened.set()
            if task.is_session:
                await self._serve_session(task, files)
            else:
                output = self._bounded(
                    await self._run_agent(task, task.request.task or "", files, task.request)
                )
        except (AgentError, ActionFailed) as exc:
            status, output = "failed", str(exc)
        except asyncio.CancelledError:
            status, output = "cancelled", task.output
            raise
        except Exception as exc:
            log.exception("task %s crashed", task.id)
            status, output = "failed", f"Internal error in the local server: {type(exc).__name__}: {exc}"
        finally:
            if status == "failed" and task.browser is not None:  # its pool browser was taken out
                output = self.browsers.loss_reason(task.browser.context) or output
            # The profile is saved before the status turns final, so a caller that sees
            # "done" can start the next task on the same profile at once.
            await self._release_browser(task)
            task.finish(status, output)

    async def _release_browser(self, task: Task) -> None:
        """Let the task's browser go (its profile saved, its downloads settled, its context
        closed, its files finished). Done once, in a task of its own: a caller cancelled meanwhile
        (the task's own end, cut by a DELETE or the reaper arriving as it ends) does not cut it,
        and whoever asks next waits for the same release (it once found no browser left to close,
        and the context stayed open until shutdown)."""
        if task.releasing is None or (task.releasing.done() and task.browser is not None):
            task.releasing = asyncio.create_task(self._release(task), name=f"release {task.id}")
        await asyncio.shield(task.releasing)

    async def _release(self, task: Task) -> None:
        browser, task.browser = task.browser, None
        # Whoever takes the browser finishes the task's files, once it is closed (the video is
        # written then); with no browser at all, there is nothing to wait for.
        files = task.files
        finishing = files is not None and not files.claimed
        if files is not None:
            files.claimed = True
        if browser is None:
            if finishing and files is not None:
                await files.finish()
            return
        profile_id = task.request.effective_profile_id
        if profile_id and not task.request.profile_read_only:
            try:
                self.storage.save_profile_state(profile_id, await browser.storage_state())
            except Exception:
                log.exception("could not save profile %s", profile_id)
        # A task that ends by itself lets its downloads in flight finish; a cancelled one does not.
        await browser.settle_downloads(self.settings.action_timeout if task.active else 0)
        await browser.close()
        if finishing and files is not None:
            await files.finish()

    async def _run_agent(
        self, task: Task, text: str, files: list[StoredFile], spec: TaskRequest | RunTaskInput
    ) -> Any:
        assert task.browser is not None
        agent = self.select_agent(text)
        context = AgentContext(
            task=text,
            browser=task.browser,
            url=spec.url,
            response_model=spec.response_model,
            metadata=spec.metadata or {},
            max_steps=spec.max_steps,
            files=files,
            custom_tools=task.request.custom_tools or (),
            tool_caller=lambda name, tool_input: self._call_tool(task, name, tool_input),
            step_reporter=lambda payload: task.emit("browser_action", payload),
            event_reporter=task.emit,
            additional_tools=task.request.additional_tools or {},
            task_files=task.files,
            token_budget=token_budget(spec.metadata, self.settings.max_task_tokens),
            settle_cap=self.settings.settle_cap,
            hand_over=(lambda message: self._agent_hand_over(task, message))
            if any(t.name == HAND_OVER_TOOL for t in task.request.custom_tools or ())
            else None,
        )
        return await agent.run(context)

    async def _agent_hand_over(self, task: Task, message: str) -> HandOverEnd:
        """The task's agent gives its browser to the caller's person: the caller's ``hand_over``
        tool sends them to the live view (it answers once they took it, with how long they have),
        and the agent waits there until they hand it back."""
        code, answer = await self._call_tool(task, HAND_OVER_TOOL, {"message": message})
        if code != 200:
            raise ActionFailed(f"The person did not take the browser: {answer}")
        given = answer.get("timeout") if isinstance(answer, dict) else None
        timeout = DEFAULT_HAND_OVER
        if isinstance(given, int | float) and 0 < given <= MAX_HAND_OVER:
            timeout = float(given)
        ended = await task.hand_overs.wait(None, message, timeout)
        task.touch()
        return ended

    async def _call_tool(self, task: Task, name: str, tool_input: Mapping[str, Any]) -> tuple[int, Any]:
        future: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        event = task.emit("tool_call", {"name": name, "input": dict(tool_input)})
        assert event.id is not None
        task.tool_calls[event.id] = future
        try:
            return await future
        finally:
            task.tool_calls.pop(event.id, None)

    # -- sessions -------------------------------------------------------------------------
    async def _serve_session(self, task: Task, files: list[StoredFile]) -> None:
        while task.active:
            action = await task.actions.get()
            task.busy = True
            try:
                closed = await self._perform(task, action, files)
            finally:
                task.busy = False
                task.touch()
            if closed:
                if action.id is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(task.close_delivered.wait(), CLOSE_DELIVERY_GRACE)
                return

    async def _perform(self, task: Task, action: QueuedAction, files: list[StoredFile]) -> bool:
        """Run one session action and post its result event; True when the session closed."""
        started = time.perf_counter()
        closing = action.action == "close"
        try:
            output = self._bounded(await self._dispatch(task, action, files))
            payload = _action_result(output, started)
        except ActionFailed as exc:
            payload = {"code": 400, "output": str(exc)}
        except AgentError as exc:
            payload = {"code": 400, "output": str(exc)}
        except Exception as exc:
            log.exception("action %s of %s crashed", action.action, task.id)
            payload = {"code": 500, "output": f"Internal error: {type(exc).__name__}: {exc}"}
        if closing:
            task.close_event_id = action.id or "closed"
            await self._release_browser(task)
        if action.id is not None:
            task.emit(action.event_name, payload, action.id)
        return closing

    def _bounded(self, output: Any) -> Any:
        """``output``, unless its JSON is longer than ``max_output_chars`` (kept in the event log
        and sent on every full poll, it would weigh on the server and every reader)."""
        size = len(json.dumps(output, ensure_ascii=False, default=str))
        if size > self.settings.max_output_chars:
            raise ActionFailed(
                f"The result is {size:,} characters, more than this server keeps "
                f"({self.settings.max_output_chars:,}, max_output_chars): return a part of it."
            )
        return output

    async def _dispatch(self, task: Task, action: QueuedAction, files: list[StoredFile]) -> Any:
        browser = task.browser
        assert browser is not None
        data = action.input
        if action.action == "goto":
            return (await browser.goto(data.url)).as_output()
        if action.action == "extract":
            return await extract_filling_gaps(
                browser, data.schema_, data.prompt, self.model_agent, task.request.metadata or {}
            )
        if action.action in ("evaluate_js", "exec_js"):
            return await browser.evaluate_js(data.js, data.args)
        if action.action == "run_task":
            return await self._run_agent(task, data.task, files, data)
        if action.action == "close":
            return True
        if action.action == HAND_OVER:
            return await self._hand_over(task, action)
        if action.action == CANCEL_HAND_OVER:
            return action.input  # {"cancelled": ...}, decided when it arrived (events.py)
        raise ActionFailed(f"Unknown action {action.action!r}.")

    async def _hand_over(self, task: Task, action: QueuedAction) -> dict[str, Any]:
        """Give the browser to a person at the live view until they hand it back; the page as it
        then is."""
        assert task.browser is not None
        ended = await task.hand_overs.wait(action.id, action.input.message, action.input.timeout)
        task.touch()
        # The text gets a third of the output bound (JSON may escape it to twice its length).
        metadata = task.request.metadata or {}
        page = await page_report(task.browser, metadata, self.settings.max_output_chars // 3)
        if ended == "done":
            return {"handed_back": True, **page}
        return {"handed_back": False, "reason": ended, **page}

    # -- events ---------------------------------------------------------------------------
    def post_event(self, task_id: str, body: Any) -> str:
        return accept_event(self.get(task_id), body)

    # -- cancel ---------------------------------------------------------------------------
    async def cancel(self, task_id: str) -> None:
        task = self.get(task_id)
        if not task.active or task.close_event_id is not None:
            state = task.status if not task.active else "closed"
            raise NotFound(f"Task {task_id!r} already completed ({state}).")
        await self._stop(task, "cancelled", task.output)

    async def _stop(self, task: Task, status: Any, output: Any) -> None:
        task.finish(status, output)
        runner = task.runner
        if runner is not None:
            await cancel_and_wait(runner)
        await self._release_browser(task)
