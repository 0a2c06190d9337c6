"""The MCP adapter: the core's tool definitions served over stdio, SSE and streamable HTTP.

``build_server()`` gives an ``MCPServer`` (mcp 2.x) for in-process use; ``smooth-mcp`` (or
``python -m mcp_server``) runs it. Names load on first use (PEP 562): ``smooth-mcp`` starts its
local server process before the MCP stack loads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import build_server
    from .settings import MCPSettings

_LAZY = {"MCPSettings": "settings", "build_server": "server"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcp_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["MCPSettings", "build_server"]
