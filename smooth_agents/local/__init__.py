"""The self-hosted, Smooth-compatible server: the Smooth REST API over a real headless Chromium.

Only this package imports Playwright; import it when the local server is wanted. Names load on
first use (PEP 562), so a module of the package can be imported alone: the local server process
(``shared.py``) starts Chromium before the rest of the server has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agents import Agent, AgentContext, AgentError, AgentSelector
    from .app import create_app
    from .builtin_agents import ReaderAgent, ScriptedAgent
    from .runtime import LocalRuntime
    from .server import EmbeddedServer, ThreadedServer, serve
    from .settings import LocalServerSettings

_LAZY: dict[str, str] = {
    "Agent": "agents",
    "AgentContext": "agents",
    "AgentError": "agents",
    "AgentSelector": "agents",
    "EmbeddedServer": "server",
    "LocalRuntime": "runtime",
    "LocalServerSettings": "settings",
    "ReaderAgent": "builtin_agents",
    "ScriptedAgent": "builtin_agents",
    "ThreadedServer": "server",
    "create_app": "app",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'smooth_agents.local' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Agent",
    "AgentContext",
    "AgentError",
    "AgentSelector",
    "EmbeddedServer",
    "LocalRuntime",
    "LocalServerSettings",
    "ReaderAgent",
    "ScriptedAgent",
    "ThreadedServer",
    "create_app",
    "serve",
]
