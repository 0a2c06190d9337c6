"""stdio: every line answered, and stopped cleanly by SIGTERM or SIGINT.

The SDK's stdio transport drops a line it cannot read as a JSON-RPC message (it only logs it), so
a host that sent a malformed request waited for an answer that never came. This transport answers
such a line with a JSON-RPC error (-32700 when it is not JSON, -32600 or -32602 when it is not a
valid message; the request's id when one can be read) and hands every valid line to the SDK.

A line nested deeper than ``MAX_NESTING`` is refused before any parser builds it (-32600, "too
deeply nested"), under the id read from its top level: both parsers give up on deep JSON without
an id (pydantic's a little past 200 levels, Python's near 1,000), which left the host waiting.

Signals: without the handler here a SIGTERM ended the process with no cleanup (remote sessions
left running), and SIGINT waited for stdin to close: the thread reading stdin cannot be
interrupted, and asyncio waits for it before exiting.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from smooth_agents.agent_tools import ToolRuntime

if sys.platform != "win32":
    import fcntl

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

# Deepest nesting of objects and arrays a line may have: far past any real message, and below the
# depth at which the SDK's parser gives up (so every deeper line meets this rule, and only it).
MAX_NESTING = 128
# A JSON string (escapes included) or a bracket: what the depth of a line is read from.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]', re.DOTALL)
_CLOSING = {"]": "[", "}": "{"}


def parse_line(line: str) -> SessionMessage | types.JSONRPCError:
    """The message a line holds, or the error that answers a line the SDK would drop."""
    # Cheap first: a line with no more brackets than the limit cannot nest deeper.
    if line.count("[") + line.count("{") > MAX_NESTING:
        depth, top = _top_level(line)
        if depth > MAX_NESTING:
            if top is None:
                return _error(None, types.PARSE_ERROR, "Parse error: the line is not JSON")
            return _error(
                _request_id(top),
                types.INVALID_REQUEST,
                f"Invalid Request: the message is too deeply nested (more than {MAX_NESTING} levels)",
            )
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError:
        pass
    else:
        # An id that is neither a string nor an integer is ignored by the SDK, which then reads
        # the request as a notification and never answers it.
        if isinstance(message, types.JSONRPCNotification) and json.loads(line).get("id") is not None:
            return _error(None, types.INVALID_REQUEST, "Invalid Request: id must be a string or an integer")
        return SessionMessage(message)
    try:
        value: Any = json.loads(line)
    except (ValueError, RecursionError):
        return _error(None, types.PARSE_ERROR, "Parse error: the line is not JSON")
    if not isinstance(value, dict):
        return _error(None, types.INVALID_REQUEST, "Invalid Request: a message is one JSON object")
    request_id = _request_id(value)
    if (
        request_id is not None
        and value.get("jsonrpc") == "2.0"
        and isinstance(value.get("method"), str)
        and not isinstance(value.get("params"), dict)
    ):
        return _error(request_id, types.INVALID_PARAMS, "Invalid params: params must be an object")
    return _error(
        request_id,
        types.INVALID_REQUEST,
        'Invalid Request: a JSON-RPC 2.0 message needs "jsonrpc": "2.0" and a string "method" '
        '(requests also a string or integer "id", params an object), or a result or error',
    )


def _request_id(value: Any) -> int | str | None:
    """The id to answer a malformed message under: its own, unless it has none a client could
    match, or it is a response (a malformed response carries the id of a request of ours, which
    the client would take for one of its own)."""
    if not isinstance(value, dict) or "result" in value or "error" in value:
        return None
    request_id = value.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        return None
    return request_id


def _top_level(line: str) -> tuple[int, Any]:
    """How deeply ``line`` nests, and its top level with every nested object or array read as
    null (None when that is not JSON): the id of a message too deep to parse, read without
    building it. Iterative, so no depth is too much for it."""
    depth = deepest = 0
    open_brackets: list[str] = []
    kept: list[str] = []  # the line's text, nested values left out
    copied = 0
    for token in _STRING_OR_BRACKET.finditer(line):
        bracket = token.group()
        if bracket in ("[", "{"):
            if depth == 1:  # a nested value starts: its text is left out
                kept.append(line[copied : token.start()])
            open_brackets.append(bracket)
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in ("]", "}"):
            if not open_brackets or open_brackets.pop() != _CLOSING[bracket]:
                return deepest, None
            depth -= 1
            if depth == 1:
                kept.append("null")
                copied = token.end()
    if open_brackets:
        return deepest, None
    kept.append(line[copied:])
    try:
        return deepest, json.loads("".join(kept))
    except (ValueError, RecursionError):
        return deepest, None


def _error(request_id: int | str | None, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


@contextmanager
def diverted_standard_streams() -> Iterator[tuple[int, int]]:
    """Private descriptors for the protocol's input and output; meanwhile descriptor 0 reads the
    null device and descriptor 1 writes to stderr (or the null device without one). Both are
    restored on the way out; the private ones stay open, since the thread reading stdin may still
    block on its descriptor, which must not be closed and reused under it."""
    sys.stdout.flush()
    wire_in, wire_out = _duplicate(0), _duplicate(1)
    try:
        null_in = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_in, 0)
        os.close(null_in)
        try:
            os.dup2(2, 1)
        except OSError:  # no stderr: stray output goes nowhere rather than onto the protocol
            null_out = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null_out, 1)
            os.close(null_out)
        yield wire_in, wire_out
    finally:
        sys.stdout.flush()
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)


def _duplicate(descriptor: int) -> int:
    """A duplicate above the standard range (so diverting 0-2 never touches it), not inherited."""
    try:
        if sys.platform == "win32":  # pragma: no cover
            return os.dup(descriptor)
        return fcntl.fcntl(descriptor, fcntl.F_DUPFD_CLOEXEC, 3)
    except OSError as exc:
        raise SystemExit(f"smooth-mcp: stdio needs an open descriptor {descriptor} ({exc})") from None


@asynccontextmanager
async def checked_stdio() -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    """The process's stdin and stdout as the server's streams, malformed lines answered here.

    While it serves, descriptor 1 points at stderr and descriptor 0 at the null device, so a stray
    print or a child process can neither corrupt the protocol nor steal its input.
    """
    with diverted_standard_streams() as (wire_in, wire_out):
        async with _serve(*_text_files(wire_in, wire_out)) as streams:
            yield streams


def _text_files(wire_in: int, wire_out: int) -> tuple[anyio.AsyncFile[str], anyio.AsyncFile[str]]:
    """UTF-8 text over the two descriptors, buffered: a raw write may write part of a line, the
    buffered writer writes it all. Not closing them is on purpose (see above)."""
    reader = io.TextIOWrapper(open(wire_in, "rb", closefd=False), encoding="utf-8", errors="replace")  # noqa: SIM115
    writer = io.TextIOWrapper(open(wire_out, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
    return anyio.wrap_file(reader), anyio.wrap_file(writer)


@asynccontextmanager
async def _serve(
    stdin: anyio.AsyncFile[str], stdout: anyio.AsyncFile[str]
) -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    to_server, from_stdin = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    to_stdout, from_server = anyio.create_memory_object_stream[SessionMessage](0)
    answers = to_stdout.clone()

    async def read() -> None:
        async with to_server, answers:
            async for line in stdin:
                if not line.strip():
                    continue  # blank lines separate nothing: not a message, nothing to answer
                parsed = parse_line(line)
                if isinstance(parsed, SessionMessage):
                    await to_server.send(parsed)
                else:
                    await answers.send(SessionMessage(parsed))

    async def write() -> None:
        async with from_server:
            async for item in from_server:
                text = item.message.model_dump_json(by_alias=True, exclude_unset=True)
                await stdout.write(text + "\n")
                await stdout.flush()

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        group.start_soon(write)
        # Once stdin is read to its end and the server is done, both senders are closed and the
        # writer ends after the last answer is out.
        async with to_stdout:
            yield from_stdin, to_stdout


async def serve_stdio(server: MCPServer[ToolRuntime], runtime: ToolRuntime) -> None:
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(*STOP_SIGNALS) as received:
                async for _ in received:
                    # Cancelling the server would wait on the thread blocked reading stdin, so the
                    # sessions are closed here and the process ends at once.
                    await runtime.aclose()
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(0)

        group.start_soon(stop_on_signal)
        # MCPServer offers no public way to serve given streams; run_stdio_async does the same.
        lowlevel = server._lowlevel_server
        async with checked_stdio() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        group.cancel_scope.cancel()  # stdin closed (the host is gone): stop listening for signals


def run_stdio(server: MCPServer[ToolRuntime], runtime: ToolRuntime) -> None:
    anyio.run(serve_stdio, server, runtime)
