"""The agent seam: what turns a task's text into browser work.

An ``Agent`` gets an ``AgentContext`` (the task, its page, the browser actions and the caller's
custom tools) and returns the task's output. Two ship here: the built-in ``ReaderAgent`` (no
model: reads a page as markdown, or extracts JSON to a schema) and ``ScriptedAgent`` (runs a
fixed list of steps; tests use it to drive any sequence of actions and custom tool calls).
A model-backed agent plugs in through ``AgentSelector``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import anyio

from ..protocol import reads_main_content_only
from .browser import BrowserSession
from .elements import ElementActions, PageState
from .errors import ActionFailed, PageMovedOn
from .extraction import ExtractionError, InvalidSchemaError, check_schema, extract_structured
from .readable import page_to_markdown
from .schemas import ToolSignature
from .storage import StoredFile
from .task_files import TaskFiles

SCRIPT_PREFIX = "script:"
log = logging.getLogger("smooth_agents.local.agents")


class AgentError(Exception):
    """The agent could not do the task; the message becomes the task's output."""


class ToolCallError(Exception):
    """A custom tool answered with an error (code 400): the agent may carry on."""


class EssentialToolFailed(AgentError):
    """A custom tool failed with code 500: the task ends."""


# A page shown with fewer words than this is also read as its server sent it (see read_page).
SERVED_CHECK_WORDS = 300

# Sends a tool_call event and waits for the caller's answer: (code, output).
ToolCaller = Callable[[str, Mapping[str, Any]], Awaitable[tuple[int, Any]]]


@dataclass
class AgentContext:
    task: str
    browser: BrowserSession
    url: str | None = None
    response_model: dict[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    max_steps: int = 32
    files: Sequence[StoredFile] = ()
    custom_tools: Sequence[ToolSignature] = ()
    tool_caller: ToolCaller | None = None
    # Publishes one step of an agent as an event of the task (what progress displays show).
    step_reporter: Callable[[dict[str, Any]], object] | None = None
    # The task's additional_tools (name -> options; see schemas.ADDITIONAL_TOOLS), and where
    # their outputs (screenshots, PDFs) land: the task's downloads.
    additional_tools: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    task_files: TaskFiles | None = None
    steps: int = 0
    _elements: ElementActions | None = None

    @property
    def elements(self) -> ElementActions:
        """Element-level actions on the task's page (a model agent's clicks and typing); each
        call should be counted with ``count_step``."""
        if self._elements is None or self._elements.page is not self.browser.page:
            self._elements = ElementActions(
                self.browser.page,
                timeout_ms=self.browser.action_timeout_ms,
                first_ref=self._elements.next_ref if self._elements else 1,
            )
        return self._elements

    async def page_state(self) -> PageState:
        """What the page shows now, as an outline whose elements carry refs; the session's other
        tabs are listed when it has some."""
        state = await self.elements.state()
        tabs = self.browser.tabs()
        if len(tabs) > 1:
            current = self.browser.page
            state.tabs = tuple(
                [
                    f"{index}: {await _title(tab)} - {tab.url}"
                    for index, tab in enumerate(tabs)
                    if tab is not current
                ]
            )
        return state

    async def switch_tab(self, index: int) -> None:
        self.count_step("switch_tab")
        await self.browser.switch_to(index)

    def report_step(self, action: str, arguments: Mapping[str, Any], outcome: str) -> None:
        """Tell the task's watchers what the agent just did: the action, its arguments, where
        the page is now and how it went (the outcome's first line, short)."""
        if self.step_reporter is not None:
            self.step_reporter(
                {
                    "name": action,
                    "input": dict(arguments),
                    "url": self.browser.url,
                    "outcome": outcome.splitlines()[0][:200] if outcome else "",
                    "step": self.steps,
                }
            )

    def count_step(self, what: str) -> None:
        """One step of ``max_steps``; past the limit the task ends (``AgentError``)."""
        self.steps += 1
        if self.steps > self.max_steps:
            raise AgentError(
                f"The task used all {self.max_steps} steps (max_steps) before finishing ({what})."
            )

    async def goto(self, url: str) -> dict[str, Any]:
        self.count_step("goto")
        return (await self.browser.goto(url)).as_output()

    async def evaluate_js(self, js: str, args: Any = None) -> Any:
        self.count_step("evaluate_js")
        return await self.browser.evaluate_js(js, args)

    async def extract(
        self, schema: Mapping[str, Any], prompt: str | None = None, *, served: bool = False
    ) -> Any:
        """Schema-guided data from the page; ``served`` reads the document as its server sent it."""
        self.count_step("extract")
        return await extract_from_page(self.browser, schema, prompt, served=served)

    async def read_page(self, *, served_only: bool = False) -> str:
        """The page as markdown: what it shows, or the document its server sent when the page's
        scripts replaced that with much less (scripts that fail offline put up an error notice
        where the article was). ``served_only`` reads the served document alone (the page has
        moved on from it)."""
        self.count_step("read")
        url = (self.browser.document_url or self.browser.url) if served_only else self.browser.url
        main_only = reads_main_content_only(dict(self.metadata))

        async def markdown(html: str) -> str:
            return await anyio.to_thread.run_sync(
                lambda: page_to_markdown(html, url, main_content_only=main_only)
            )

        shown = "" if served_only else await markdown(await self.browser.html())
        if not served_only and len(shown.split()) >= SERVED_CHECK_WORDS:
            return shown
        served_html = await self.browser.served_html()
        if served_html is None:
            if served_only:
                raise ActionFailed("The page moved on and its document could not be read again.")
            return shown
        served = await markdown(served_html)
        return served if len(served.split()) >= 2 * len(shown.split()) + 1 else shown

    def enabled(self, tool: str) -> bool:
        """True when the task enabled this additional tool (``additional_tools``)."""
        return tool in self.additional_tools

    def _tool_options(self, tool: str) -> Mapping[str, Any]:
        if not self.enabled(tool):
            raise ActionFailed(
                f"The {tool} tool is not enabled for this task: add it to additional_tools "
                f"(enabled: {sorted(self.additional_tools) or 'none'})."
            )
        return self.additional_tools[tool] or {}

    def _keep(self, name: str, content: bytes) -> str:
        if self.task_files is None:
            raise ActionFailed("This task keeps no files.")
        return self.task_files.add(name, content)

    async def take_screenshot(self, full_page: bool | None = None) -> tuple[str, bytes]:
        """A PNG of the page saved among the task's downloads: its name and bytes. ``full_page``
        None takes the task's own option (``additional_tools.screenshot.full_page``)."""
        options = self._tool_options("screenshot")
        self.count_step("screenshot")
        whole = bool(options.get("full_page", False)) if full_page is None else full_page
        image = await self.browser.capture(full_page=whole)
        return self._keep(f"screenshot-{self._made('screenshot')}.png", image), image

    async def screenshot(self, full_page: bool | None = None) -> str:
        """A PNG of the page saved among the task's downloads; its file name."""
        return (await self.take_screenshot(full_page))[0]

    async def print_page(self) -> str:
        """The page printed to a PDF saved among the task's downloads; its file name."""
        self._tool_options("print_page")
        self.count_step("print_page")
        return self._keep(f"page-{self._made('page')}.pdf", await self.browser.pdf())

    async def drag_drop(self, source_ref: str, target_ref: str) -> str:
        """Drag one element onto another, by the refs of the last page state."""
        self._tool_options("drag_drop")
        self.count_step("drag_drop")
        return await self.elements.drag(source_ref, target_ref)

    def _made(self, prefix: str) -> int:
        saved = self.task_files.saved if self.task_files is not None else []
        return 1 + sum(1 for name in saved if name.startswith(prefix + "-"))

    async def attach_files(self, selector: str, file_ids: Sequence[str] | None = None) -> None:
        self.count_step("attach_files")
        chosen = [f for f in self.files if file_ids is None or f.id in file_ids]
        if not chosen:
            raise AgentError(f"No uploaded files to attach (task files: {[f.id for f in self.files]}).")
        await self.browser.set_input_files(selector, [f.path for f in chosen])

    async def call_tool(self, name: str, tool_input: Mapping[str, Any]) -> Any:
        """Call one of the caller's custom tools and return its answer."""
        self.count_step(f"tool {name}")
        known = {t.name for t in self.custom_tools}
        if name not in known or self.tool_caller is None:
            raise AgentError(f"The task has no custom tool named {name!r} (declared: {sorted(known)}).")
        code, output = await self.tool_caller(name, tool_input)
        if code == 200:
            return output
        if code == 400:
            raise ToolCallError(f"Custom tool {name!r} failed: {output}")
        raise EssentialToolFailed(f"Custom tool {name!r} failed and is essential (code {code}): {output}")


async def _title(page: Any) -> str:
    try:
        return str(await page.title())[:60]
    except Exception:  # a tab closing meanwhile
        return "(closing)"


async def extract_from_page(
    browser: BrowserSession, schema: Mapping[str, Any], prompt: str | None, *, served: bool = False
) -> Any:
    """The ``extract`` action: schema-guided data from the current page, without a model."""
    try:
        check_schema(schema)
    except InvalidSchemaError as exc:
        raise ActionFailed(str(exc)) from None
    if served:
        document = await browser.served_html()
        if document is None:
            raise ActionFailed("The page moved on and its document could not be read again.")
        html, url = document, browser.document_url or browser.url
    else:
        html, url = await browser.html(), browser.url
    try:
        return await anyio.to_thread.run_sync(
            lambda: extract_structured(html, schema, url=url, prompt=prompt)
        )
    except ExtractionError as exc:
        raise ActionFailed(str(exc)) from None


class Agent(Protocol):
    async def run(self, context: AgentContext) -> Any: ...


@runtime_checkable
class FillsMissing(Protocol):
    """An agent with a model that can also complete an extraction: given the page's main content
    and the properties the deterministic extraction left empty, it answers their values (only
    those; ``{}`` when the page does not say)."""

    async def fill_missing(
        self,
        schema: Mapping[str, Any],
        missing: Sequence[str],
        page_text: str,
        *,
        prompt: str | None,
        metadata: Mapping[str, Any],
    ) -> dict[str, Any]: ...


# Characters of a page's main content a model is shown to fill in an extraction.
FILL_TEXT_BUDGET = 30_000


async def extract_filling_gaps(
    browser: BrowserSession,
    schema: Mapping[str, Any],
    prompt: str | None,
    filler: object,
    metadata: Mapping[str, Any],
) -> Any:
    """The ``extract`` action: the deterministic extraction; then, when ``filler`` has a model and
    required properties of the object asked for stayed empty, those filled by the model from the
    page's main content (its values checked against their schemas). The result still has to match
    the whole schema; when it does not, the rules' own message says what was missing."""
    if not isinstance(filler, FillsMissing) or not missing_required(schema, {}):
        return await extract_from_page(browser, schema, prompt)
    refused: ActionFailed | None = None
    try:
        data = await extract_from_page(browser, schema, prompt)
    except ActionFailed as exc:  # required properties the page's markup does not give
        refused = exc
        try:
            data = await extract_from_page(browser, {**schema, "required": []}, prompt)
        except ActionFailed:
            raise exc from None
    missing = missing_required(schema, data)
    if not missing:
        return data
    html, url = await browser.html(), browser.url
    text = await anyio.to_thread.run_sync(lambda: page_to_markdown(html, url, main_content_only=True))
    try:
        filled = await filler.fill_missing(
            schema, missing, text[:FILL_TEXT_BUDGET], prompt=prompt, metadata=metadata
        )
    except Exception as exc:  # the provider's failure: the rules' result stands
        log.warning("the model could not fill %s: %s: %s", missing, type(exc).__name__, str(exc)[:200])
        filled = {}
    merged = {**data, **{name: value for name, value in filled.items() if name in missing}}
    still = missing_required(schema, merged)
    if still and refused is not None:
        raise ActionFailed(f"{refused} The model did not find {still} on the page either.") from None
    return merged


def missing_required(schema: Mapping[str, Any], data: Any) -> list[str]:
    """The required top-level properties ``data`` has no value for (absent, null, "", [] or {})."""
    if not isinstance(data, dict) or schema.get("type") not in (None, "object"):
        return []
    required = [name for name in schema.get("required") or () if isinstance(name, str)]
    return [name for name in required if data.get(name) in (None, "", [], {})]


# Chooses the agent for a task from its text (one-shot task or run_task in a session).
AgentSelector = Callable[[str], Agent]


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
            raise AgentError(
                "The built-in reader has no model, so it cannot act on the task text alone "
                f"({context.task[:80]!r}). Options: give a `url` to read that page (add "
                "`response_model` to get JSON matching a schema); drive a session step by step with "
                "goto, extract and evaluate_js; give this server a model (SMOOTH_LOCAL_MODEL=provider:model, "
                "or smooth-mcp --local-model host for the MCP host's own); or set SMOOTH_API_KEY to use "
                "the Smooth cloud agent."
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
    ``sleep`` {seconds}, ``fail`` {message}, ``return`` {output} (or ``{"from": "last"}`` /
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
        if action == "fail":
            raise AgentError(str(step.get("message", "The script asked to fail.")))
        raise AgentError(
            f"Unknown script action {action!r}; use goto, evaluate_js, extract, read, tool, "
            "attach_files, screenshot, print_page, sleep, fail or return."
        )


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
