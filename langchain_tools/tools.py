"""The LangChain tool classes, made from the core's one tool list.

Each core definition gets a ``SmoothTool`` subclass named after the tool in CamelCase with
``Tool`` after it (``smooth_browse`` -> ``SmoothBrowseTool``, ``smooth_session_evaluate_js`` ->
``SmoothSessionEvaluateJsTool``). A tool added to ``smooth_agents.agent_tools.ALL_TOOLS`` gets its
class here, importable from ``langchain_tools`` by that name, with no line written for it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from smooth_agents.agent_tools import ALL_TOOLS, WORK_TOOLS, ToolDefinition

from .base import SmoothTool


def class_name(tool_name: str) -> str:
    """``smooth_session_goto`` -> ``SmoothSessionGotoTool``."""
    return "".join(part.capitalize() for part in tool_name.split("_")) + "Tool"


def _tool_class(definition: ToolDefinition[Any, Any]) -> type[SmoothTool]:
    namespace = {
        "__module__": __name__,
        "__qualname__": class_name(definition.name),
        "__doc__": f"{definition.name}: {definition.title}.",
        "__annotations__": {"definition": ClassVar[ToolDefinition[Any, Any]]},
        "definition": definition,
    }
    made: type[SmoothTool] = type(class_name(definition.name), (SmoothTool,), namespace)
    return made


TOOL_CLASSES: dict[str, type[SmoothTool]] = {
    definition.name: _tool_class(definition) for definition in ALL_TOOLS
}
ALL_TOOL_CLASSES: tuple[type[SmoothTool], ...] = tuple(TOOL_CLASSES.values())
# What SmoothToolkit.get_tools() hands an agent: the tools of web work, not the housekeeping.
WORK_TOOL_CLASSES: tuple[type[SmoothTool], ...] = tuple(TOOL_CLASSES[d.name] for d in WORK_TOOLS)
CLASSES_BY_NAME: dict[str, type[SmoothTool]] = {cls.__name__: cls for cls in ALL_TOOL_CLASSES}
# Module attributes too, so a tool pickles and ``langchain_tools.tools.SmoothBrowseTool`` resolves.
globals().update(CLASSES_BY_NAME)
