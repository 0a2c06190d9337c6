"""The agent-facing tools, each defined once; ``mcp_server`` and ``langchain_tools`` adapt them."""

from __future__ import annotations

from typing import Any

from ..errors import ToolFailure
from ..person import HandOverAnswer, Person
from .base import (
    ProgressSink,
    ToolContext,
    ToolDefinition,
    ToolHints,
    ToolSettings,
    no_progress,
)
from .browse import BROWSE
from .crawl import CRAWL, MAP
from .crawl_jobs import CrawlJob, CrawlJobs
from .extract import EXTRACT
from .files import FILE_UPLOAD
from .handoff import SESSION_HANDOFF
from .profiles import PROFILE_CREATE, PROFILE_DELETE, PROFILE_LIST
from .registry import SessionRegistry, TrackedSession
from .render import LongOutput, Rendered, render
from .runtime import BlockingToolRuntime, ToolRuntime
from .schemas import published_schema
from .sessions import (
    SESSION_CLOSE,
    SESSION_EVALUATE_JS,
    SESSION_EXTRACT,
    SESSION_GOTO,
    SESSION_LIST,
    SESSION_OPEN,
    SESSION_RUN_TASK,
)
from .tasks import TASK_CANCEL, TASK_STATUS

# The one tool list: the MCP server serves these, the LangChain classes are made from them.
# The tools of web work itself (what SmoothToolkit hands an agent)...
WORK_TOOLS: tuple[ToolDefinition[Any, Any], ...] = (
    BROWSE,
    EXTRACT,
    MAP,
    CRAWL,
    SESSION_OPEN,
    SESSION_GOTO,
    SESSION_EXTRACT,
    SESSION_EVALUATE_JS,
    SESSION_RUN_TASK,
    SESSION_HANDOFF,
    SESSION_CLOSE,
    SESSION_LIST,
    TASK_STATUS,
    TASK_CANCEL,
)
# ...and the account's housekeeping: profiles, files.
ALL_TOOLS: tuple[ToolDefinition[Any, Any], ...] = (
    *WORK_TOOLS,
    PROFILE_CREATE,
    PROFILE_LIST,
    PROFILE_DELETE,
    FILE_UPLOAD,
)


def tools_for(
    *, local_machine: bool, file_roots: tuple[str, ...] = ()
) -> tuple[ToolDefinition[Any, Any], ...]:
    """The tools to offer: those touching this machine's files only when the caller is local and
    some folder is open to them (a tool that can only fail is not offered)."""
    can_read_files = local_machine and bool(file_roots)
    return tuple(t for t in ALL_TOOLS if can_read_files or not t.local_only)


__all__ = [
    "ALL_TOOLS",
    "WORK_TOOLS",
    "BlockingToolRuntime",
    "CrawlJob",
    "CrawlJobs",
    "HandOverAnswer",
    "LongOutput",
    "Person",
    "ProgressSink",
    "Rendered",
    "SessionRegistry",
    "ToolContext",
    "ToolDefinition",
    "ToolFailure",
    "ToolHints",
    "ToolRuntime",
    "ToolSettings",
    "TrackedSession",
    "no_progress",
    "published_schema",
    "render",
    "tools_for",
]
