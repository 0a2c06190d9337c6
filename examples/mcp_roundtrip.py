"""An MCP round trip: a client starts `smooth-mcp` over stdio and extracts a product from a page.

No API key needed: the MCP server runs the embedded local Smooth server (a real headless
Chromium). The page is one of the project's demo pages, served here on a loopback port. The
extracted data is printed as JSON on stdout; the tool's text answer goes to stderr.

    python examples/mcp_roundtrip.py
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

import smooth_agents

DEMO_SITE = Path(smooth_agents.__file__).parent / "local" / "demo_site"
PRODUCT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "number"},
        "currency": {"type": "string"},
        "in_stock": {"type": "boolean", "description": "availability"},
    },
    "required": ["name", "price"],
}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


async def main() -> None:
    handler = functools.partial(QuietHandler, directory=str(DEMO_SITE))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        page = f"http://127.0.0.1:{site.server_address[1]}/product.html"
        command = shutil.which("smooth-mcp")
        server = (
            StdioServerParameters(command=command, env=dict(os.environ))
            if command
            else StdioServerParameters(
                command=sys.executable, args=["-m", "mcp_server"], env=dict(os.environ)
            )
        )
        async with Client(server) as mcp:
            result = await mcp.call_tool("smooth_extract", {"url": page, "json_schema": PRODUCT_SCHEMA})
        site.shutdown()
    if result.is_error:
        raise SystemExit(f"smooth_extract failed: {result.content}")
    print(result.content[0].text, file=sys.stderr)  # type: ignore[union-attr]
    assert result.structured_content is not None
    print(json.dumps(result.structured_content["data"], indent=2))


if __name__ == "__main__":
    asyncio.run(main())
