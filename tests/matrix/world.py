"""What the matrix's hosts talk to: one local Smooth server whose plain-language tasks are done by
the model agent over a scripted model that waits at a gate (so a task outlives any wait, without a
timer), the test site, and smooth-mcp over each transport, all shared by every cell."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from langchain_tools.browser_agent import model_agent
from smooth_agents.local import ThreadedServer
from smooth_agents.local.agents.builtin import SCRIPT_PREFIX, ReaderAgent, ScriptedAgent
from smooth_agents.local.agents.seam import Agent
from tests.helpers import SiteServer, make_settings
from tests.langchain.scripting import shopping
from tests.mcp.test_transports import http_server, server_env

# A model task names its cell; its model waits at that cell's gate before its first turn.
CELL = re.compile(r"\[cell ([\w.-]+)\]")
GATE_TIMEOUT = 120.0


class Gates:
    """One gate per cell, opened by the test once the host has been told the task is running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: defaultdict[str, threading.Event] = defaultdict(threading.Event)

    def _gate(self, cell: str) -> threading.Event:
        with self._lock:
            return self._gates[cell]

    def open(self, cell: str) -> None:
        self._gate(cell).set()

    def wait(self, cell: str) -> None:
        # Bounded only so that a broken test fails instead of hanging; it is opened long before.
        if not self._gate(cell).wait(GATE_TIMEOUT):
            raise AssertionError(f"the gate of cell {cell} was never opened")


class GatedShopper(BaseChatModel):
    """The fixture shop's flow (search, next page, the product, its price as the answer), turn by
    turn from the conversation, so many tasks can share it; the first turn waits at its gate."""

    _gates: Gates = PrivateAttr()

    def __init__(self, gates: Gates, **data: Any) -> None:
        super().__init__(**data)
        self._gates = gates

    @property
    def _llm_type(self) -> str:
        return "gated-shopper"

    def bind_tools(self, tools: Any, **kwargs: Any) -> GatedShopper:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        turn = sum(isinstance(m, AIMessage) for m in messages)
        if turn == 0:
            named = next((CELL.search(str(m.content)) for m in messages if CELL.search(str(m.content))), None)
            assert named, "a model task of the matrix names its cell"
            self._gates.wait(named.group(1))
        reply = shopping()[turn](messages)
        return ChatResult(generations=[ChatGeneration(message=reply)])


@dataclass
class World:
    site: SiteServer
    local: ThreadedServer
    gates: Gates
    env: dict[str, str]
    http: dict[str, str] = field(default_factory=dict)  # transport name -> base URL
    # The person at the live view (a Chromium of their own; tests/person.py), once started.
    person: Any = None


# smooth-mcp's HTTP servers of a world: a name hosts ask for, its transport and its flags.
MCP_HTTP_SERVERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sse", "sse", ()),
    ("http", "streamable-http", ()),
    ("http-stateless", "streamable-http", ("--stateless",)),
)


@contextmanager
def world(
    site: SiteServer,
    data_dir: Path,
    *,
    local_settings: Mapping[str, Any] | None = None,
    mcp_http_servers: tuple[tuple[str, str, tuple[str, ...]], ...] = MCP_HTTP_SERVERS,
) -> Iterator[World]:
    """The local server (with ``local_settings`` beside the tests' own) and smooth-mcp over each of
    ``mcp_http_servers``."""
    gates = Gates()
    agent = model_agent(GatedShopper(gates))

    def select(task_text: str) -> Agent:
        if task_text.lstrip().startswith(SCRIPT_PREFIX):
            return ScriptedAgent.from_task_text(task_text)
        return agent if CELL.search(task_text) else ReaderAgent()

    with ExitStack() as stack:
        settings = make_settings(data_dir, **(local_settings or {}))
        local = stack.enter_context(ThreadedServer(settings, agent_selector=select))
        env = server_env(local)
        made = World(site, local, gates, env)
        for name, transport, flags in mcp_http_servers:
            base, _ = stack.enter_context(http_server(env, transport, *flags))
            made.http[name] = base
        yield made
