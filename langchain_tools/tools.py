"""One LangChain tool class per core tool; each only names its definition."""

from __future__ import annotations

from typing import Any, ClassVar

from smooth_agents.agent_tools import ToolDefinition
from smooth_agents.agent_tools.browse import BROWSE
from smooth_agents.agent_tools.extract import EXTRACT
from smooth_agents.agent_tools.files import FILE_UPLOAD
from smooth_agents.agent_tools.profiles import PROFILE_CREATE, PROFILE_DELETE, PROFILE_LIST
from smooth_agents.agent_tools.sessions import (
    SESSION_CLOSE,
    SESSION_EVALUATE_JS,
    SESSION_EXTRACT,
    SESSION_GOTO,
    SESSION_LIST,
    SESSION_OPEN,
    SESSION_RUN_TASK,
)
from smooth_agents.agent_tools.tasks import TASK_CANCEL, TASK_STATUS

from .base import SmoothTool


class SmoothBrowseTool(SmoothTool):
    """smooth_browse: a web task in plain language, done by Smooth's browser agent."""

    definition: ClassVar[ToolDefinition[Any, Any]] = BROWSE


class SmoothExtractTool(SmoothTool):
    """smooth_extract: structured data from one page, shaped by a JSON schema."""

    definition: ClassVar[ToolDefinition[Any, Any]] = EXTRACT


class SmoothSessionOpenTool(SmoothTool):
    """smooth_session_open: open a browser session for step-by-step work."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_OPEN


class SmoothSessionGotoTool(SmoothTool):
    """smooth_session_goto: go to a page in an open session."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_GOTO


class SmoothSessionExtractTool(SmoothTool):
    """smooth_session_extract: structured data from the session's current page."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_EXTRACT


class SmoothSessionEvaluateJsTool(SmoothTool):
    """smooth_session_evaluate_js: run JavaScript in the session's page."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_EVALUATE_JS


class SmoothSessionRunTaskTool(SmoothTool):
    """smooth_session_run_task: let the agent do a task inside an open session."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_RUN_TASK


class SmoothSessionCloseTool(SmoothTool):
    """smooth_session_close: close a session."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_CLOSE


class SmoothSessionListTool(SmoothTool):
    """smooth_session_list: the sessions these tools have open."""

    definition: ClassVar[ToolDefinition[Any, Any]] = SESSION_LIST


class SmoothTaskStatusTool(SmoothTool):
    """smooth_task_status: status and answer of a task started by smooth_browse."""

    definition: ClassVar[ToolDefinition[Any, Any]] = TASK_STATUS


class SmoothTaskCancelTool(SmoothTool):
    """smooth_task_cancel: stop a running task."""

    definition: ClassVar[ToolDefinition[Any, Any]] = TASK_CANCEL


class SmoothProfileCreateTool(SmoothTool):
    """smooth_profile_create: a browser profile that keeps cookies and logins."""

    definition: ClassVar[ToolDefinition[Any, Any]] = PROFILE_CREATE


class SmoothProfileListTool(SmoothTool):
    """smooth_profile_list: the saved browser profiles."""

    definition: ClassVar[ToolDefinition[Any, Any]] = PROFILE_LIST


class SmoothProfileDeleteTool(SmoothTool):
    """smooth_profile_delete: delete a browser profile."""

    definition: ClassVar[ToolDefinition[Any, Any]] = PROFILE_DELETE


class SmoothFileUploadTool(SmoothTool):
    """smooth_file_upload: upload a local file (only from folders the runtime allows)."""

    definition: ClassVar[ToolDefinition[Any, Any]] = FILE_UPLOAD


SESSION_TOOL_CLASSES: tuple[type[SmoothTool], ...] = (
    SmoothSessionOpenTool,
    SmoothSessionGotoTool,
    SmoothSessionExtractTool,
    SmoothSessionEvaluateJsTool,
    SmoothSessionRunTaskTool,
    SmoothSessionCloseTool,
    SmoothSessionListTool,
)
ALL_TOOL_CLASSES: tuple[type[SmoothTool], ...] = (
    SmoothBrowseTool,
    SmoothExtractTool,
    *SESSION_TOOL_CLASSES,
    SmoothTaskStatusTool,
    SmoothTaskCancelTool,
    SmoothProfileCreateTool,
    SmoothProfileListTool,
    SmoothProfileDeleteTool,
    SmoothFileUploadTool,
)
