"""stdio, stopped cleanly by SIGTERM or SIGINT: the sessions opened are closed, then the process
ends at once.

Without this a SIGTERM ended the process with no cleanup (remote sessions left running), and
SIGINT waited for stdin to close: the thread reading stdin cannot be interrupted, and asyncio
waits for it before exiting.
"""

from __future__ import annotations

import os
import signal
import sys

import anyio
from mcp.server.mcpserver import MCPServer

from .runtime import ToolRuntime

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
        await server.run_stdio_async()
        group.cancel_scope.cancel()  # stdin closed (the host is gone): stop listening for signals


def run_stdio(server: MCPServer[ToolRuntime], runtime: ToolRuntime) -> None:
    anyio.run(serve_stdio, server, runtime)
