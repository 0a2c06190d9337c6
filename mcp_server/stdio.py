"""stdio: every line answered, and stopped cleanly by SIGTERM or SIGINT.

The SDK's stdio transport drops a line it cannot read as a JSON-RPC message (it only logs it), so
a host that sent a malformed request waited for an answer that never came. This transport answers
such a line with a JSON-RPC error (-32700 when it is not JSON, -32600 or -32602 when it is not a
valid message; the request's id when one can be read) and hands every valid line to the SDK.

Signals: without the handler here a SIGTERM ended the process with no cleanup (remote sessions
left running), and SIGINT waited for stdin to close: the thread reading stdin cannot be
interrupted, and asyncio waits for it before exiting.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from .runtime import ToolRuntime

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def parse_line(line: str) -> SessionMessage | types.JSONRPCError:
    """The message a line holds, or the error that answers a line the SDK would drop."""
    try:
        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError:
        pass
    else:
        # An id that is neither a string nor an integer is ignored by the SDK, which then reads
        # the request as a notification and never answers it.
        notification = isinstance(message, types.JSONRPCNotification)
        if notification and '"id"' in line and "id" in json.loads(line):
            return _error(None, types.INVALID_REQUEST, "Invalid Request: id must be a string or an integer")
        return SessionMessage(message)
    try:
        value: Any = json.loads(line)
    except (ValueError, RecursionError):
        return _error(None, types.PARSE_ERROR, "Parse error: the line is not JSON")
    if not isinstance(value, dict):
        return _error(None, types.INVALID_REQUEST, "Invalid Request: a message is one JSON object")
    # Echo the id only of something meant as a request: a malformed response carries the id of
    # a request of ours, which the client would take for one of its own.
    request_id = value.get("id") if "method" in value else None
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        request_id = None
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


def _error(request_id: int | str | None, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


@asynccontextmanager
async def checked_stdio() -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    """The process's stdin and stdout as the server's streams, malformed lines answered here.

    While it serves, descriptor 1 points at stderr and descriptor 0 at the null device, so a stray
    print or a child process can neither corrupt the protocol nor steal its input.
    """
    wire_in, wire_out = os.dup(0), os.dup(1)
    saved_in, saved_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    sys.stdout.flush()
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    stdin = anyio.wrap_file(io.TextIOWrapper(io.FileIO(wire_in, "rb"), encoding="utf-8", errors="replace"))
    stdout = anyio.wrap_file(io.TextIOWrapper(io.FileIO(wire_out, "wb"), encoding="utf-8"))
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

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            group.start_soon(write)
            # Once stdin is read to its end and the server is done, both senders are closed and
            # the writer ends after the last answer is out.
            async with to_stdout:
                yield from_stdin, to_stdout
    finally:
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        for descriptor in (saved_in, saved_out):
            os.close(descriptor)


async def serve_stdio(server: MCPServer[ToolRuntime], runtime: ToolRuntime) -> None:
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(*STOP_SIGNALS) as received:
                async for _ in received:
                    # Cancelling the server would wait on the thread blocked reading stdin, so the
                    # sessions are closed here and the process ends at once.
                    await runtime.close_now()
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
