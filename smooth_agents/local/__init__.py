"""The self-hosted, Smooth-compatible server: the Smooth REST API over a real headless Chromium.

Only this package imports Playwright; import it when the local server is wanted.
"""

from .agents import Agent, AgentContext, AgentError, AgentSelector
from .app import create_app
from .builtin_agents import ReaderAgent, ScriptedAgent
from .runtime import LocalRuntime
from .server import EmbeddedServer, ThreadedServer, serve
from .settings import LocalServerSettings

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
