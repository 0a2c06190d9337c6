"""A text-only host, run under langchain-mcp-adapters' own interpreter (it pins mcp < 2).

Usage: adapters_host.py CONNECTION_JSON LISTING_URL PAGE_URL
Loads smooth-mcp's tools through langchain-mcp-adapters, then does what a model reading only the
ToolMessage text can do: extract a listing, and read a long page by following the read-on calls
the text names. Prints, as JSON, the texts the model saw.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests.reading: standard library only

from langchain_mcp_adapters.client import MultiServerMCPClient

from tests.reading import read_on_arguments

ROWS = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}


async def seen(tool: Any, arguments: dict[str, Any], call_id: str) -> str:
    """What the model is shown for one call: the ToolMessage's text."""
    message = await tool.ainvoke({"type": "tool_call", "id": call_id, "name": tool.name, "args": arguments})
    assert message.status != "error", message.text
    return str(message.text)


async def main(connection: dict[str, Any], listing_url: str, page_url: str) -> None:
    client = MultiServerMCPClient({"smooth": connection})
    async with client.session("smooth") as session:
        from langchain_mcp_adapters.tools import load_mcp_tools

        tools = {t.name: t for t in await load_mcp_tools(session)}
        listing = await seen(
            tools["smooth_extract"], {"url": listing_url, "json_schema": json.dumps(ROWS)}, "c1"
        )
        pages = [await seen(tools["smooth_browse"], {"task": "read the page", "url": page_url}, "c2")]
        while (arguments := read_on_arguments(pages[-1])) is not None:
            pages.append(await seen(tools["smooth_task_status"], arguments, f"c{len(pages) + 2}"))
    print(json.dumps({"listing": listing, "pages": pages}))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]))
