"""The agent seam: what turns a task's text into browser work.

An ``Agent`` gets an ``AgentContext`` (the task, its page, the browser actions, the additional
tools and the caller's custom tools) and returns the task's output. The built-in agents (the
reader and the scripted agent) are in ``builtin``; the model agent plugs in through ``model``;
the ``extract`` action, with a model's help where one is configured, is ``extract``'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from ...protocol import reads_main_content_only
from ...reading.readable import page_to_markdown
from ..browser.session import BrowserSession
from ..errors import ActionFailed
from ..files.storage import StoredFile
from ..files.task_files import TaskFiles
from ..schemas import ToolSignature
from .elements import ElementActions, PageState
from .extract import extract_from_page
from .settle import DEFAULT_SETTLE_CAP


class AgentError(Exception):
    """The agent could not do the task; the message becomes the task's output."""


class ToolCallError(Exception):
    """A custom tool answered with an error (code 400): the agent may carry on."""


class EssentialToolFailed(AgentError):
    """A custom tool failed with code 500: the task ends."""


# A page shown with fewer words than this is also read as its server sent it (see read_page).
SERVED_CHECK_WORDS = 300
# How long a page state waits for a download started since the last one, so that a quick one a
# click started is told finished (with its size) in the state answering the click; a longer one
# is told started, then finished in a later state (which does not wait for it again).
DOWNLOAD_WAIT = 2.0

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
    # Publishes another event of the task: its name and payload (the model's token usage).
    event_reporter: Callable[[str, dict[str, Any]], object] | None = None
    # The task's additional_tools (name -> options; see schemas.ADDITIONAL_TOOLS), and where
    # their outputs (screenshots, PDFs) land: the task's downloads.
    additional_tools: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    task_files: TaskFiles | None = None
    # Given when the caller offered its person the browser (the ``hand_over`` custom tool): hands
    # the browser over and waits for the hand-back; how it ended.
    hand_over: Callable[[str], Awaitable[str]] | None = None
    # The tokens the task's model may use (None: no bound but max_steps).
    token_budget: int | None = None
    # How long an element action waits at most for what it started (see settle.py), in seconds.
    settle_cap: float = DEFAULT_SETTLE_CAP
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
                settle_cap=self.settle_cap,
            )
        return self._elements

    async def page_state(self) -> PageState:
        """What the page shows now, as an outline whose elements carry refs; the session's other
        tabs are listed when it has some, and what became of its downloads since the last look."""
        state = await self.elements.state()
        if self.task_files is not None:
            if self.task_files.started_untold:
                await self.browser.downloads_settled(DOWNLOAD_WAIT)
            state.downloads = tuple(self.task_files.news())
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

    def report_usage(self, usage: Mapping[str, Mapping[str, Any]]) -> None:
        """The tokens the task's model used, by model name (the contract's ``credits_used`` counts
        Smooth credits, not tokens, so they go in a ``model_usage`` event of their own)."""
        if self.event_reporter is not None and usage:
            self.event_reporter(
                "model_usage", {"models": {name: dict(counts) for name, counts in usage.items()}}
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

    async def view(self, full_page: bool = False) -> bytes:
        """A PNG of the page for a model that reads images, kept nowhere (so it needs no
        ``additional_tools.screenshot``)."""
        self.count_step("look")
        return await self.browser.capture(full_page=full_page)

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


class Agent(Protocol):
    async def run(self, context: AgentContext) -> Any: ...


# Chooses the agent for a task from its text (one-shot task or run_task in a session).
AgentSelector = Callable[[str], Agent]
