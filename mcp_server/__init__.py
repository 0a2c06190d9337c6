"""The MCP adapter: the core's tool definitions served over stdio, SSE and streamable HTTP.

``build_server()`` gives an ``MCPServer`` (mcp 2.x) for in-process use; ``smooth-mcp`` (or
``python -m mcp_server``) runs it.
"""

from .server import build_server
from .settings import MCPSettings

__all__ = ["MCPSettings", "build_server"]
