"""The agents that ship with the local server: the reader (no model: reads the task's page as
markdown, or extracts JSON to its schema) and the scripted agent (runs a fixed list of steps;
tests and demos use it to drive any sequence of actions and custom tool calls over the wire),
and the choice between them and a model agent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ActionFailed, PageMovedOn
from .seam import Agent, AgentContext, AgentError, AgentSelector, ToolCallError

SCRIPT_PREFIX = "script:"


class ReaderAgent:
    """Answers a task by reading its ``url``: markdown, or JSON when a schema is given."""

    async def run(self, context: AgentContext) -> Any:
        if context.url:
            try:
                landed = await context.goto(context.url)
            except PageMovedOn as exc:
                # Its document arrived, then its own script sent it to an address that did not
                # load (often a switch to https): read the document as it was sent.
                try:
                    if context.response_model is not None:
                        return await context.extract(context.response_model, context.task, served=True)
                    return await context.read_page(served_only=True)
                except ActionFailed:
                    raise AgentError(str(exc)) from None
            except ActionFailed as exc:
                raise AgentError(str(exc)) from None
            status = landed.get("status")
            if isinstance(status, int) and status >= 400:
                raise AgentError(
                    f"{landed.get('url') or context.url} answered HTTP {status} "
                    f"({landed.get('title') or 'no title'!r}): an error page, so nothing was read."
                )
        elif context.browser.url in ("", "about:blank"):
            # Names of the contract in backticks: each client surface writes its own names there
            # (protocol.renamed); what is configured where is the same on every surface.
            raise AgentError(
                "The built-in reader has no model, so it cannot act on the task text alone "
                f"({context.task[:80]!r}): it reads a page. Give a `url` to read that page (with a "
                "`response_model`, JSON matching that schema), or in a session open a page first with "
                "`goto`; a session can also be driven step by step with `goto`, `extract` and "
                "`evaluate_js`. For tasks in plain language, give the local server a model "
                "(SMOOTH_LOCAL_MODEL=provider:model), or set SMOOTH_API_KEY to use the Smooth cloud agent."
            )
        if context.response_model is not None:
            try:
                return await context.extract(context.response_model, context.task)
            except ActionFailed as exc:
                raise AgentError(str(exc)) from None
        return await context.read_page()


class ScriptedAgent:
    """Runs a fixed list of steps; each step is a dict with an ``action``.

    Actions: ``goto`` {url}, ``evaluate_js`` {js, args}, ``extract`` {schema, prompt}, ``read``,
    ``tool`` {name, input} (a custom tool call), ``attach_files`` {selector, file_ids},
    ``screenshot`` {full_page} and ``print_page`` (additional tools the task enabled),
    ``sleep`` {seconds}, ``wait_for_downloads`` {count, until, seconds} (until the task's pages
    have started ``count`` downloads, and with ``until: "ended"`` until each started has also been
    kept or refused; failing after ``seconds``, 30 by default: a download's start comes some time
    after the click, and a task that ended first would not keep it),
    ``fail`` {message}, ``return`` {output} (or ``{"from": "last"}`` /
    ``{"from": "all"}``). Without a ``return`` the output is the last step's result. A step with
    ``"on_error": "continue"`` records a failed tool call's message as its result and goes on.
    In a ``tool`` step's input, the value ``"$last"`` stands for the previous step's result.
    """

    def __init__(self, steps: Sequence[Mapping[str, Any]]) -> None:
        self.steps = list(steps)

    @classmethod
    def from_task_text(cls, text: str) -> ScriptedAgent:
        body = text.strip()[len(SCRIPT_PREFIX) :]
        try:
            steps = json.loads(body)
        except json.JSONDecodeError as exc:
            raise AgentError(f"The task script is not valid JSON: {exc}") from None
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise AgentError("The task script must be a JSON list of step objects.")
        return cls(steps)

    async def run(self, context: AgentContext) -> Any:
        results: list[Any] = []
        for step in self.steps:
            action = step.get("action")
            if action == "return":
                source = step.get("from")
                if source == "last":
                    return results[-1] if results else None
                if source == "all":
                    return results
                return step.get("output")
            try:
                results.append(await self._run_step(context, str(action), step, results))
            except (ToolCallError, ActionFailed) as exc:
                if step.get("on_error") != "continue":
                    raise AgentError(str(exc)) from None
                results.append({"error": str(exc)})
        return results[-1] if results else None

    async def _run_step(
        self, context: AgentContext, action: str, step: Mapping[str, Any], results: list[Any]
    ) -> Any:
        if action == "goto":
            return await context.goto(str(step["url"]))
        if action == "evaluate_js":
            return await context.evaluate_js(str(step["js"]), step.get("args"))
        if action == "extract":
            return await context.extract(step["schema"], step.get("prompt"))
        if action == "read":
            return await context.read_page()
        if action == "tool":
            return await context.call_tool(str(step["name"]), _with_last(step.get("input") or {}, results))
        if action == "attach_files":
            await context.attach_files(str(step["selector"]), step.get("file_ids"))
            return None
        if action == "screenshot":
            full_page = step.get("full_page")
            return await context.screenshot(None if full_page is None else bool(full_page))
        if action == "print_page":
            return await context.print_page()
        if action == "sleep":
            await asyncio.sleep(float(step.get("seconds", 0)))
            return None
        if action == "wait_for_downloads":
            until = str(step.get("until", "started"))
            if until not in ("started", "ended"):
                raise AgentError(f'wait_for_downloads waits until "started" or "ended", not {until!r}.')
            seconds = float(step.get("seconds", 30))
            return await _downloads(context, int(step["count"]), until == "ended", seconds)
        if action == "fail":
            raise AgentError(str(step.get("message", "The script asked to fail.")))
        raise AgentError(
            f"Unknown script action {action!r}; use goto, evaluate_js, extract, read, tool, "
            "attach_files, screenshot, print_page, sleep, wait_for_downloads, fail or return."
        )


async def _downloads(context: AgentContext, count: int, ended: bool, seconds: float) -> int:
    """The number of downloads started, once it reaches ``count`` (and, when ``ended``, none is
    still arriving) within ``seconds``."""
    files = context.task_files
    if files is None:
        raise AgentError("This task keeps no downloads, so none can be waited for.")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while files.started < count or (ended and files.arriving):
        if loop.time() > deadline:
            started = ", ".join(files.started_names) or "none"
            if files.started < count:
                raise AgentError(
                    f"{files.started} of {count} downloads started within {seconds:g} s (started: {started})."
                )
            raise AgentError(
                f"Downloads still arriving after {seconds:g} s: {', '.join(files.arriving)} "
                f"({files.started} started: {started})."
            )
        await asyncio.sleep(0.02)
    return files.started


def _with_last(tool_input: Mapping[str, Any], results: list[Any]) -> dict[str, Any]:
    """Tool input with every value "$last" replaced by the previous step's result."""
    last = results[-1] if results else None
    return {key: last if value == "$last" else value for key, value in tool_input.items()}


def default_agent_selector(enable_scripted: bool, model_agent: Agent | None = None) -> AgentSelector:
    """The model agent for every task when a model is configured, else the reader; the scripted
    agent for ``script:`` tasks when enabled."""

    def select(task_text: str) -> Agent:
        if enable_scripted and task_text.lstrip().startswith(SCRIPT_PREFIX):
            return ScriptedAgent.from_task_text(task_text)
        return model_agent or ReaderAgent()

    return select
