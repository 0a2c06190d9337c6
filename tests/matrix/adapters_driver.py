"""langchain-mcp-adapters as a host, run under the adapters' own interpreter (they pin mcp < 2).

Usage: adapters_driver.py MODE CONNECTION_JSON, MODE "default" (``MultiServerMCPClient.get_tools()``:
a new MCP connection for every call, what most users write) or "session" (``client.session()`` and
``load_mcp_tools``: one connection for all calls). Reads tool calls as JSON lines on stdin
(``{"tool": ..., "args": {...}}``) and answers each with what the model is shown, as a JSON line:
``{"text": <the ToolMessage's text>, "is_error": ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any

from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_mcp_adapters.tools import load_mcp_tools


async def shown(tool: Any, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    """What a LangChain agent (its ToolNode) puts before the model for one call."""
    try:
        message = await tool.ainvoke(
            {"type": "tool_call", "id": call_id, "name": tool.name, "args": arguments}
        )
    except Exception as exc:  # the ToolNode shows a raised tool error to the model as text
        return {"text": f"Error: {exc}", "is_error": True}
    return {"text": str(message.text), "is_error": message.status == "error"}


async def serve(tools: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    count = 0
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        request = json.loads(line)
        count += 1
        answer = await shown(tools[request["tool"]], request["args"], f"call-{count}")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


async def main(mode: str, connection: dict[str, Any]) -> None:
    client = MultiServerMCPClient({"smooth": connection})
    async with contextlib.AsyncExitStack() as stack:
        if mode == "default":
            listed = await client.get_tools()
        else:
            session = await stack.enter_async_context(client.session("smooth"))
            listed = await load_mcp_tools(session)
        sys.stdout.write(json.dumps({"ready": [t.name for t in listed]}) + "\n")
        sys.stdout.flush()
        await serve({t.name: t for t in listed})


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
