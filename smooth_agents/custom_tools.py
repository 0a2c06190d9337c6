"""Custom tools: functions of the caller that the remote agent may call during a task.

``tool(fn)`` (or ``@tool(name=..., essential=...)``) turns a plain function or coroutine into a
``CustomTool``: its name, description and input JSON schema come from the signature, the type
hints and the docstring unless given. When the agent calls it, the input is validated, the
function runs once, and its answer (or error) goes back to the agent.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

import anyio.to_thread
from pydantic import BaseModel, ValidationError, create_model

from .errors import ToolError

ToolFunction = Callable[..., Any]


@dataclass
class CustomTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    fn: ToolFunction
    output_description: str = "The tool's answer as JSON."
    # An essential tool's failure ends the task (code 500); raise ToolError for a failure the
    # agent may work around (code 400) either way.
    essential: bool = True
    error_message: str | None = None
    _input_model: type[BaseModel] | None = field(default=None, repr=False)

    def signature(self) -> dict[str, Any]:
        """The declaration sent with the task (``custom_tools`` entry)."""
        return {
            "name": self.name,
            "description": self.description,
            "inputs": self.input_schema,
            "output": self.output_description,
        }

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate the agent's input and run the function (sync ones on a worker thread)."""
        kwargs = dict(arguments)
        if self._input_model is not None:
            try:
                kwargs = dict(self._input_model.model_validate(kwargs))
            except ValidationError as exc:
                raise ToolError(f"invalid input for {self.name}: {_short_errors(exc)}") from None
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**kwargs)
        result = await anyio.to_thread.run_sync(lambda: self.fn(**kwargs))
        if inspect.isawaitable(result):
            awaited: Awaitable[Any] = result
            return await awaited
        return result


def _short_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$", re.IGNORECASE)
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.+)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The summary paragraph and the per-argument descriptions of a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _ARGS_HEADER.match(line):
            break
        summary.append(line.strip())
    args: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in lines:
        if _ARGS_HEADER.match(line):
            in_args = True
            continue
        if not in_args:
            continue
        if line.strip() and not line.startswith((" ", "\t")):
            break  # the next section (Returns:, Raises:) begins
        match = _ARG_LINE.match(line)
        indent = len(line) - len(line.lstrip())
        if match and (current is None or indent <= _indent_of(lines, current)):
            current = match.group(1).lstrip("*")
            args[current] = match.group(3).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return " ".join(summary), args


def _indent_of(lines: list[str], argument: str) -> int:
    for line in lines:
        match = _ARG_LINE.match(line)
        if match and match.group(1).lstrip("*") == argument:
            return len(line) - len(line.lstrip())
    return 0


def _input_model(fn: ToolFunction, name: str, arg_docs: Mapping[str, str]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    hints = inspect.get_annotations(fn, eval_str=True)
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        from pydantic import Field as PydanticField

        fields[parameter.name] = (
            annotation,
            PydanticField(default=default, description=arg_docs.get(parameter.name)),
        )
    model: type[BaseModel] = create_model(f"{name}_input", **fields)
    return model


@overload
def tool(fn: ToolFunction, /) -> CustomTool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: dict[str, Any] | None = None,
    output_description: str | None = None,
    essential: bool = True,
    error_message: str | None = None,
) -> Callable[[ToolFunction], CustomTool]: ...


def tool(
    fn: ToolFunction | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: dict[str, Any] | None = None,
    output_description: str | None = None,
    essential: bool = True,
    error_message: str | None = None,
) -> CustomTool | Callable[[ToolFunction], CustomTool]:
    """Make a custom tool from a function: ``tool(fn)`` or ``@tool(name=..., essential=False)``."""

    def build(function: ToolFunction) -> CustomTool:
        summary, arg_docs = parse_docstring(function.__doc__)
        tool_name = name or function.__name__
        model = None
        schema = input_schema
        if schema is None:
            model = _input_model(function, tool_name, arg_docs)
            schema = model.model_json_schema()
            schema.pop("title", None)
        return CustomTool(
            name=tool_name,
            description=description or summary or f"The caller's tool {tool_name}.",
            input_schema=schema,
            fn=function,
            output_description=output_description or "The tool's answer as JSON.",
            essential=essential,
            error_message=error_message,
            _input_model=model,
        )

    if fn is not None:
        return build(fn)
    return build


def as_custom_tool(candidate: CustomTool | ToolFunction) -> CustomTool:
    if isinstance(candidate, CustomTool):
        return candidate
    if callable(candidate):
        return tool(candidate)
    raise TypeError(f"Not a tool: {candidate!r}; pass a function or a CustomTool.")
