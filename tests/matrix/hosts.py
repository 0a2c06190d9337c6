"""The hosts of the matrix: each calls smooth-mcp's tools the way a real host does, and gives back
what its model is shown (the text of the result), nothing else.

- ``McpClientHost``: the mcp SDK's ``Client`` on one connection kept for all calls (stdio in the
  default mode and with the handshake, SSE, streamable HTTP stateful, under 2026-07-28, stateless).
- ``AdaptersHost``: langchain-mcp-adapters in its own interpreter, in its default mode (a new
  connection per call) or its session mode (tests/matrix/adapters_driver.py).
- ``InspectorHost``: the MCP Inspector CLI, a process (and a connection) per call.
- ``ToolkitHost``: ``SmoothToolkit`` inside LangChain's ``create_agent``; a puppet model makes the
  calls and reads the ToolMessages the agent hands it.

``Hosts`` starts each by name, on first use, against a ``World`` (tests/matrix/world.py).
"""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import PrivateAttr, SecretStr

from langchain_tools import SmoothToolkit
from tests.helpers import API_KEY
from tests.matrix.world import World

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS_PYTHON = ROOT / ".cache" / "adapters-venv" / "bin" / "python"
ADAPTERS_DRIVER = Path(__file__).with_name("adapters_driver.py")
INSPECTOR = ROOT / ".cache" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"


@dataclass(frozen=True)
class Seen:
    """What the model is shown for one call."""

    text: str
    is_error: bool


class Host(Protocol):
    name: str

    async def call(self, tool: str, arguments: dict[str, Any]) -> Seen: ...


class McpClientHost:
    def __init__(self, name: str, client: Client) -> None:
        self.name = name
        self._client = client

    async def call(self, tool: str, arguments: dict[str, Any]) -> Seen:
        result = await self._client.call_tool(tool, arguments)
        text = "\n".join(str(getattr(block, "text", "")) for block in result.content)
        return Seen(text, bool(result.is_error))


class AdaptersHost:
    """The adapters' driver process, spoken to in JSON lines."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self._process = process
        self._lock = asyncio.Lock()

    @classmethod
    async def start(
        cls, name: str, mode: str, connection: dict[str, Any], stack: AsyncExitStack
    ) -> AdaptersHost:
        assert ADAPTERS_PYTHON.exists(), (
            "scripts/check installs langchain-mcp-adapters in .cache/adapters-venv"
        )
        process = await asyncio.create_subprocess_exec(
            str(ADAPTERS_PYTHON),
            str(ADAPTERS_DRIVER),
            mode,
            json.dumps(connection),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=ROOT,
            limit=2**24,
        )
        stack.push_async_callback(_ended, process)
        host = cls(name, process)
        ready = await host._read()
        assert "smooth_browse" in ready["ready"], ready
        return host

    async def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = await self._process.stdout.readline()
        assert line, f"the adapters driver ended (exit {await self._process.wait()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def call(self, tool: str, arguments: dict[str, Any]) -> Seen:
        async with self._lock:
            assert self._process.stdin is not None
            self._process.stdin.write((json.dumps({"tool": tool, "args": arguments}) + "\n").encode())
            await self._process.stdin.drain()
            answer = await self._read()
        return Seen(answer["text"], answer["is_error"])


async def _ended(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()


class InspectorHost:
    """``mcp-inspector --cli URL --method tools/call ...``: a new process and connection per call."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self._url = url

    async def call(self, tool: str, arguments: dict[str, Any]) -> Seen:
        pairs: list[str] = []
        for key, value in arguments.items():
            # Every value is typed as text on the command line; the Inspector converts numbers by
            # the tool's schema, and JSON arguments are published as strings of JSON text.
            text = value if isinstance(value, str) else json.dumps(value)
            pairs += ["--tool-arg", f"{key}={text}"]
        process = await asyncio.create_subprocess_exec(
            str(INSPECTOR),
            "--cli",
            self._url,
            "--method",
            "tools/call",
            "--tool-name",
            tool,
            *pairs,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()[-2000:]
        result = json.loads(out)
        text = "\n".join(str(block.get("text", "")) for block in result["content"])
        return Seen(text, bool(result.get("isError")))


class PuppetModel(BaseChatModel):
    """A chat model whose calls come from the test, one at a time: it hands the test the text of
    the ToolMessage the agent gave it, then answers with the next call it is told to make."""

    _calls: asyncio.Queue[tuple[str, dict[str, Any]] | None] = PrivateAttr(default_factory=asyncio.Queue)
    _shown: asyncio.Queue[Seen] = PrivateAttr(default_factory=asyncio.Queue)

    @property
    def _llm_type(self) -> str:
        return "puppet"

    def bind_tools(self, tools: Any, **kwargs: Any) -> PuppetModel:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("the puppet runs on the agent's loop (ainvoke)")

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            await self._shown.put(Seen(str(last.content), last.status == "error"))
        following = await self._calls.get()
        if following is None:
            reply = AIMessage("That is all.")
        else:
            name, arguments = following
            reply = AIMessage(
                "", tool_calls=[{"name": name, "args": arguments, "id": f"call-{len(messages)}"}]
            )
        return ChatResult(generations=[ChatGeneration(message=reply)])

    async def make(self, tool: str, arguments: dict[str, Any]) -> Seen:
        await self._calls.put((tool, arguments))
        return await self._shown.get()

    async def stop(self) -> None:
        await self._calls.put(None)


class ToolkitHost:
    def __init__(self, name: str, model: PuppetModel, agent_run: asyncio.Task[Any]) -> None:
        self.name = name
        self._model = model
        self._run = agent_run
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, name: str, tools: list[Any], stack: AsyncExitStack) -> ToolkitHost:
        model = PuppetModel()
        agent = create_agent(model, tools)
        run = asyncio.create_task(
            agent.ainvoke(
                {"messages": [("user", "Do the web work you are told.")]}, {"recursion_limit": 10_000}
            )
        )

        async def finish() -> None:
            await model.stop()
            await run

        stack.push_async_callback(finish)
        return cls(name, model, run)

    async def call(self, tool: str, arguments: dict[str, Any]) -> Seen:
        async with self._lock:
            assert not self._run.done(), self._run
            return await self._model.make(tool, arguments)


def stdio_parameters(env: dict[str, str]) -> Any:
    from mcp.client.stdio import StdioServerParameters

    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env)


# The hosts that are the mcp SDK's Client (one connection kept for every call).
MCP_CLIENT_HOSTS = ("stdio", "stdio-handshake", "sse", "http-handshake", "http", "http-stateless")


class Hosts:
    """Each host started on first use and kept for the module."""

    def __init__(self, made: World, stack: AsyncExitStack) -> None:
        self.world = made
        self._stack = stack
        self._started: dict[str, Host] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str) -> Host:
        async with self._lock:
            if name not in self._started:
                self._started[name] = await self._start(name)
            return self._started[name]

    def mcp_client(self, name: str, **options: Any) -> Client:
        """A new mcp ``Client`` of one of the MCP client hosts (``options``: its callbacks)."""
        made = self.world
        http = made.http["http"] + "/mcp"
        if name in ("stdio", "stdio-handshake"):
            mode = "legacy" if name == "stdio-handshake" else "2026-07-28"
            return Client(stdio_parameters(made.env), mode=mode, **options)
        if name == "sse":
            return Client(sse_client(made.http["sse"] + "/sse"), mode="legacy", **options)
        if name in ("http", "http-handshake"):
            mode = "legacy" if name == "http-handshake" else "2026-07-28"
            return Client(streamable_http_client(http), mode=mode, **options)
        assert name == "http-stateless", name
        return Client(streamable_http_client(made.http["http-stateless"] + "/mcp"), **options)

    async def _start(self, name: str) -> Host:
        made, stack = self.world, self._stack
        http = made.http["http"] + "/mcp"
        if name in MCP_CLIENT_HOSTS:
            client = self.mcp_client(name)
        elif name.startswith("adapters-"):
            if not ADAPTERS_PYTHON.exists():
                pytest.fail("scripts/check installs langchain-mcp-adapters in .cache/adapters-venv")
            _, mode, transport = name.split("-")
            stdio = {"transport": "stdio", "command": str(stdio_parameters(made.env).command)}
            connection = (
                {**stdio, "args": ["-m", "mcp_server"], "env": made.env}
                if transport == "stdio"
                else {"transport": "streamable_http", "url": http}
            )
            return await AdaptersHost.start(name, mode, connection, stack)
        elif name == "inspector-http":
            if not INSPECTOR.exists():
                pytest.fail("scripts/check installs the MCP Inspector in .cache/inspector (needs npm)")
            return InspectorHost(name, http)
        elif name == "toolkit-agent":
            toolkit = SmoothToolkit(api_key=SecretStr(API_KEY), base_url=made.local.base_url)
            stack.callback(toolkit.close)
            return await ToolkitHost.start(name, toolkit.get_tools(), stack)
        else:
            raise AssertionError(name)
        await held(client, stack)
        return McpClientHost(name, client)


async def held(context: AbstractAsyncContextManager[object], stack: AsyncExitStack) -> None:
    """Enter ``context`` in a task of its own, left at the stack's close: an MCP client's task
    group must be left by the task that entered it, and cells run in tasks of their own."""
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def hold() -> None:
        async with context:
            entered.set()
            await leave.wait()

    holder = asyncio.create_task(hold())

    async def release() -> None:
        leave.set()
        await holder

    stack.push_async_callback(release)
    waiting = asyncio.create_task(entered.wait())
    await asyncio.wait({holder, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if holder.done():
        waiting.cancel()
        holder.result()  # its failure, raised here
