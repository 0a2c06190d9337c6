"""LangChain tools for Smooth: the core's tool definitions as ``BaseTool`` classes.

``SmoothToolkit(...).get_tools()`` for an agent; or one tool at a time: each core tool has its
class, named after it (``SmoothBrowseTool``, ``SmoothExtractTool``, ``SmoothSessionGotoTool``...,
see ``tools.py``). Each tool's ``name`` is the MCP tool name. Results are
``content_and_artifact``: the whole result as text for the model, the structured result as the
artifact.
"""

# Re-exported (the ``as`` says so to linters: ``__all__`` below is built, not written out).
from .base import SmoothTool as SmoothTool
from .toolkit import SmoothToolkit as SmoothToolkit
from .tools import ALL_TOOL_CLASSES as ALL_TOOL_CLASSES
from .tools import CLASSES_BY_NAME


def __getattr__(name: str) -> type[SmoothTool]:
    # The tool classes are made from the core's tool list; each is found here by its name.
    try:
        return CLASSES_BY_NAME[name]
    except KeyError:
        raise AttributeError(f"module 'langchain_tools' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return __all__


__all__ = sorted(["ALL_TOOL_CLASSES", "SmoothTool", "SmoothToolkit", *CLASSES_BY_NAME])
