"""What an agent-facing tool is, once: name, LLM description, input and output models, hints,
and one async function over the client. ``mcp_server`` and ``langchain_tools`` only adapt these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from ..errors import ToolFailure
from ..person import Person
from .errors import as_tool_failure, validate_input
from .schemas import published_output_schema, published_schema

if TYPE_CHECKING:
    from ..client import AsyncSmoothClient
    from ..custom_tools import CustomTool
    from .crawl_jobs import CrawlJobs
    from .registry import SessionRegistry
    from .render import Rendered

InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass(frozen=True)
class ToolHints:
    """Honest behaviour hints (MCP tool annotations)."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = True


class ProgressSink(Protocol):
    async def __call__(
        self, message: str, progress: float | None = None, total: float | None = None
    ) -> None: ...


async def no_progress(message: str, progress: float | None = None, total: float | None = None) -> None:
    """The default sink: nobody listens."""


# The smallest content budget that still leaves room for a useful part of a long result.
MIN_CONTENT_BUDGET = 2_000


@dataclass
class ToolSettings:
    """Bounds the tools work within; adapters fill them from flags and environment."""

    # How long smooth_browse waits before answering "running" with the task id.
    wait_seconds: float = 120.0
    max_wait_seconds: float = 600.0
    # Characters per answer, bounding the text and the structured form alike; a longer result is
    # cut and read on with smooth_task_status(start_index=...). 20,000 characters (about 5,000
    # tokens) hold a typical article or a listing of dozens of rows whole, and keep one answer far
    # below the 25,000 tokens at which Claude Code refuses MCP output, and small next to any
    # context window.
    content_budget: int = 20_000
    # smooth_file_upload reads only below these folders (none: the tool is refused).
    file_roots: tuple[str, ...] = ()
    # How long smooth_session_handoff waits for the person to hand the browser back.
    handoff_timeout: float = 600.0
    # True when the client runs the embedded local server (descriptions say what it can do), and
    # when that server has a model for plain-language tasks.
    embedded: bool = False
    embedded_model: bool = False

    def __post_init__(self) -> None:
        if self.content_budget < MIN_CONTENT_BUDGET:
            raise ValueError(f"content_budget must be at least {MIN_CONTENT_BUDGET} characters")
        if not 0 < self.handoff_timeout <= 86_400:
            raise ValueError("handoff_timeout must be more than 0 and at most 86400 seconds")


@dataclass
class ToolContext:
    """What one tool call gets: the client, the registries of sessions and of crawl jobs, settings,
    progress, and the caller's own tools to offer the remote agent (LangChain tools, for instance)."""

    client: AsyncSmoothClient
    sessions: SessionRegistry
    settings: ToolSettings
    # The maps, crawls and batches of pages running in the background (read on by later calls).
    crawls: CrawlJobs
    progress: ProgressSink = field(default=no_progress)
    custom_tools: Sequence[CustomTool] = ()
    # Who is calling: a server with several callers (MCP clients over HTTP) gives each its own
    # owner, and a caller sees and uses only the sessions it opened.
    owner: str = ""
    # Metadata every task this call starts carries besides its own (the MCP server's channel to
    # the caller's model, for instance).
    task_metadata: Mapping[str, Any] = field(default_factory=dict)
    # The way to the person behind the call (smooth_session_handoff); None: nobody can be asked.
    person: Person | None = None


class ToolInput(BaseModel):
    # Unknown arguments are refused, so a misspelt argument is reported rather than ignored.
    model_config = ConfigDict(extra="forbid")


class ToolOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ToolDefinition(Generic[InputT, OutputT]):
    name: str
    title: str
    description: str
    input_model: type[InputT]
    output_model: type[OutputT]
    hints: ToolHints
    run: Callable[[ToolContext, InputT], Awaitable[OutputT]]
    # The first line of a result's text: what it is (the renderer adds the result itself).
    lead: Callable[[OutputT], str]
    # Added to the description when the embedded local server answers: without a model, and with.
    embedded_note: str = ""
    embedded_model_note: str = ""
    # Tools that touch the caller's machine (file upload) are offered only over stdio.
    local_only: bool = False

    def input_schema(self) -> dict[str, Any]:
        """The argument schema both surfaces publish (the subset every provider accepts)."""
        return published_schema(self.input_model)

    def output_schema(self) -> dict[str, Any]:
        """The result schema hosts are shown (MCP ``outputSchema``)."""
        return published_output_schema(self.output_model)

    def render(self, output: OutputT, budget: int) -> Rendered:
        """The text and structured form of a result, within ``budget`` characters each."""
        from .render import render  # render builds on ToolOutput, defined here: imported late

        return render(self.lead(output), output, budget)

    def describe(self, settings: ToolSettings) -> str:
        """The description a host shows its model: what the server behind these tools can do."""
        note = ""
        if settings.embedded:
            note = (
                (self.embedded_model_note or self.embedded_note)
                if settings.embedded_model
                else self.embedded_note
            )
        return f"{self.description}\n\n{note}" if note else self.description

    async def invoke(self, context: ToolContext, arguments: dict[str, Any]) -> OutputT:
        """Validate raw arguments (named as on the wire), run, map client errors to ``ToolFailure``."""
        return await self.invoke_parsed(context, validate_input(self, arguments))

    async def invoke_parsed(self, context: ToolContext, parsed: InputT) -> OutputT:
        """Run on input already validated against ``input_model``."""
        try:
            return await self.run(context, parsed)
        except ToolFailure:
            raise
        except Exception as exc:
            failure = as_tool_failure(self, exc)
            if failure is None:
                raise
            raise failure from exc
