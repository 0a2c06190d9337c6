"""The self-hosted, Smooth-compatible server: the Smooth REST API over a real headless Chromium.

Its rooms, lowest first (tests/core/test_architecture.py holds each to what it may import):
``extraction`` (structured data from HTML), ``browser`` (launch, one task's context, the network
choke point), ``files`` (uploads, downloads, recordings, per-task links), ``agents`` (the agent
seam and its page actions), ``tasks`` (a task's state and the runtime), ``live`` (the live view).
Beside them, modules every room shares (``errors``, ``jsonsafe``, ``schemas``, ``settings``) and
the surface (``app`` the HTTP routes, ``server`` ways to run it, ``shared`` this user's shared
server process).

Only this package imports Playwright; import it when the local server is wanted. Names load on
first use (PEP 562), so a module of the package can be imported alone: the local server process
(``shared.py``) starts Chromium before the rest of the server has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agents.builtin import ReaderAgent, ScriptedAgent
    from .agents.seam import Agent, AgentContext, AgentError, AgentSelector
    from .app import create_app
    from .server import EmbeddedServer, ThreadedServer, serve
    from .settings import LocalServerSettings
    from .tasks.runtime import LocalRuntime

_LAZY: dict[str, str] = {
    "Agent": "agents.seam",
    "AgentContext": "agents.seam",
    "AgentError": "agents.seam",
    "AgentSelector": "agents.seam",
    "EmbeddedServer": "server",
    "LocalRuntime": "tasks.runtime",
    "LocalServerSettings": "settings",
    "ReaderAgent": "agents.builtin",
    "ScriptedAgent": "agents.builtin",
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
