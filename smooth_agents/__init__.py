"""smooth-agents: delegate web work from any LLM agent to Smooth.

``AsyncSmoothClient`` / ``SmoothClient`` cover the whole Smooth API: one-shot tasks with
structured output, interactive sessions, custom tools, profiles and files. With no API key they
run the embedded local server (``smooth_agents.local``, imported only then). ``mcp_server`` and
``langchain_tools`` expose the same tools to MCP hosts and LangChain agents.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .client import AsyncSmoothClient
    from .config import ClientConfig
    from .crawl import MappedPage
    from .crawl.results import PageResult
    from .custom_tools import CustomTool, tool
    from .errors import (
        ActionError,
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        HandOverUnsupportedError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        SessionClosedError,
        SmoothError,
        TaskFailedError,
        TaskTimeoutError,
        ToolError,
        UnprocessableEntityError,
    )
    from .handles import AsyncTaskHandle
    from .models import (
        ActionResult,
        Extension,
        HandOverResult,
        Profile,
        Task,
        TaskEvent,
        TaskResult,
        TaskUpdate,
        UploadedFile,
    )
    from .pacing import PollSettings
    from .person import Person, PersonCallbacks
    from .protocol import live_view_link
    from .session import AsyncSession
    from .sync import Session, SmoothClient, TaskHandle

# Names load on first use (PEP 562): `import smooth_agents` stays cheap for the CLI and the MCP
# server's cold start, and the HTTP stack loads only when a client is made.
_LAZY: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APITimeoutError": "errors",
    "ActionError": "errors",
    "ActionResult": "models",
    "AsyncSession": "session",
    "AsyncSmoothClient": "client",
    "AsyncTaskHandle": "handles",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "ClientConfig": "config",
    "ConflictError": "errors",
    "CustomTool": "custom_tools",
    "Extension": "models",
    "HandOverResult": "models",
    "HandOverUnsupportedError": "errors",
    "InternalServerError": "errors",
    "MappedPage": "crawl",
    "NotFoundError": "errors",
    "PageResult": "crawl.results",
    "PermissionDeniedError": "errors",
    "Person": "person",
    "PersonCallbacks": "person",
    "PollSettings": "pacing",
    "Profile": "models",
    "RateLimitError": "errors",
    "Session": "sync",
    "SessionClosedError": "errors",
    "SmoothClient": "sync",
    "SmoothError": "errors",
    "Task": "models",
    "TaskEvent": "models",
    "TaskFailedError": "errors",
    "TaskHandle": "sync",
    "TaskResult": "models",
    "TaskTimeoutError": "errors",
    "TaskUpdate": "models",
    "ToolError": "errors",
    "UnprocessableEntityError": "errors",
    "UploadedFile": "models",
    "live_view_link": "protocol",
    "tool": "custom_tools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'smooth_agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ActionError",
    "ActionResult",
    "AsyncSession",
    "AsyncSmoothClient",
    "AsyncTaskHandle",
    "AuthenticationError",
    "BadRequestError",
    "ClientConfig",
    "ConflictError",
    "CustomTool",
    "Extension",
    "HandOverResult",
    "HandOverUnsupportedError",
    "InternalServerError",
    "MappedPage",
    "NotFoundError",
    "PageResult",
    "PermissionDeniedError",
    "Person",
    "PersonCallbacks",
    "PollSettings",
    "Profile",
    "RateLimitError",
    "Session",
    "SessionClosedError",
    "SmoothClient",
    "SmoothError",
    "Task",
    "TaskEvent",
    "TaskFailedError",
    "TaskHandle",
    "TaskResult",
    "TaskTimeoutError",
    "TaskUpdate",
    "ToolError",
    "UnprocessableEntityError",
    "UploadedFile",
    "__version__",
    "live_view_link",
    "tool",
]
