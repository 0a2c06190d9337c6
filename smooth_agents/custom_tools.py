"""Custom tools: functions of the caller that the remote agent may call during a task.

``tool(fn)`` (or ``@tool(name=..., essential=...)``) turns a plain function or coroutine into a
``CustomTool``: its name, description and input JSON schema come from the signature, the type
hints and the docstring unless given. When the agent calls it, the input is validated, the
function runs once, and its answer (or error) goes back to the agent.

Pydantic reads the signature (``TypeAdapter`` gives the input schema, ``validate_call`` checks a
call against it) and ``docstring_parser`` reads the docstring (Google, NumPy, reST and Epydoc
styles): the description is the docstring's text before its sections, and each argument's
description joins its property in the schema.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast, overload

import anyio.to_thread
import docstring_parser
from pydantic import TypeAdapter, ValidationError, validate_call

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
    # ``fn`` wrapped by pydantic's validate_call (None when the schema was given: no validation).
    _validated: ToolFunction | None = field(default=None, repr=False)

    def signature(self) -> dict[str, Any]:
        """The declaration sent with the task (``custom_tools`` entry)."""
        return {
            "name": self.name,
            "description": self.description,
            "inputs": self.input_schema,
            "output": self.output_description,
        }

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate the agent's input and run the function once (sync ones on a worker thread)."""
        function = self._validated or self.fn
        kwargs = dict(arguments)
        try:
            if inspect.iscoroutinefunction(self.fn):
                return await function(**kwargs)
            result = await anyio.to_thread.run_sync(lambda: function(**kwargs))
            if inspect.isawaitable(result):
                awaited: Awaitable[Any] = result
                return await awaited
            return result
        except ValidationError as exc:
            if self._validated is None or exc.title not in (self.fn.__name__, self.fn.__qualname__):
                raise  # raised by the function's own work, not by checking its input
            raise ToolError(f"invalid input for {self.name}: {_short_errors(exc)}") from None


def _short_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


def _input_schema(function: ToolFunction, argument_docs: Mapping[str, str]) -> dict[str, Any]:
    """The JSON schema of the function's arguments, each described by its docstring line."""
    # A TypeAdapter of a function describes its arguments (typed for types, hence the cast).
    schema = TypeAdapter(cast(Any, function)).json_schema()
    for name, prop in schema.get("properties", {}).items():
        if name in argument_docs and "description" not in prop:
            prop["description"] = argument_docs[name]
    schema.pop("title", None)
    return schema


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
        doc = docstring_parser.parse(function.__doc__ or "")
        tool_name = name or function.__name__
        validated = None
        schema = input_schema
        if schema is None:
            argument_docs = {p.arg_name.lstrip("*"): p.description or "" for p in doc.params}
            schema = _input_schema(function, {k: v for k, v in argument_docs.items() if v})
            validated = validate_call(function)
        return CustomTool(
            name=tool_name,
            description=description or (doc.description or "").strip() or f"The caller's tool {tool_name}.",
            input_schema=schema,
            fn=function,
            output_description=output_description or "The tool's answer as JSON.",
            essential=essential,
            error_message=error_message,
            _validated=validated,
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
