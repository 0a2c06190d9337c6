"""smooth-agents: delegate web work from any LLM agent to Smooth.

``AsyncSmoothClient`` / ``SmoothClient`` cover the whole Smooth API: one-shot tasks with
structured output, interactive sessions, custom tools, profiles and files. With no API key they
run the embedded local server (``smooth_agents.local``, imported only then). ``mcp_server`` and
``langchain_tools`` expose the same tools to MCP hosts and LangChain agents.
"""

from ._version import __version__
from .client import AsyncSmoothClient
from .config import ClientConfig
from .errors import (
    ActionError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SessionClosedError,
    SmoothError,
    TaskFailedError,
    ToolError,
    UnprocessableEntityError,
)
from .handles import AsyncSession, AsyncTaskHandle, TaskTimeoutError
from .models import ActionResult, Extension, Profile, Task, TaskEvent, TaskResult, TaskUpdate, UploadedFile
from .polling import PollSettings
from .sync import Session, SmoothClient, TaskHandle
from .tools import CustomTool, tool

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
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
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
    "tool",
]
