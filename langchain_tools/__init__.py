"""LangChain tools for Smooth: the core's tool definitions as ``BaseTool`` classes.

``SmoothToolkit(...).get_tools()`` for an agent; or one tool at a time
(``SmoothBrowseTool``, ``SmoothExtractTool``, ``SmoothSession*Tool``...). Each tool's ``name`` is the
MCP tool name. Results are ``content_and_artifact``: a short text for the model, the structured
result as the artifact.
"""

from .base import SmoothTool
from .runtime import SmoothRuntime
from .toolkit import SmoothToolkit
from .tools import (
    ALL_TOOL_CLASSES,
    SmoothBrowseTool,
    SmoothExtractTool,
    SmoothFileUploadTool,
    SmoothProfileCreateTool,
    SmoothProfileDeleteTool,
    SmoothProfileListTool,
    SmoothSessionCloseTool,
    SmoothSessionEvaluateJsTool,
    SmoothSessionExtractTool,
    SmoothSessionGotoTool,
    SmoothSessionListTool,
    SmoothSessionOpenTool,
    SmoothSessionRunTaskTool,
    SmoothTaskCancelTool,
    SmoothTaskStatusTool,
)

__all__ = [
    "ALL_TOOL_CLASSES",
    "SmoothBrowseTool",
    "SmoothExtractTool",
    "SmoothFileUploadTool",
    "SmoothProfileCreateTool",
    "SmoothProfileDeleteTool",
    "SmoothProfileListTool",
    "SmoothRuntime",
    "SmoothSessionCloseTool",
    "SmoothSessionEvaluateJsTool",
    "SmoothSessionExtractTool",
    "SmoothSessionGotoTool",
    "SmoothSessionListTool",
    "SmoothSessionOpenTool",
    "SmoothSessionRunTaskTool",
    "SmoothTaskCancelTool",
    "SmoothTaskStatusTool",
    "SmoothTool",
    "SmoothToolkit",
]
