"""The local model agent's own cost per step: from a model's tool call to the next model call
(the action, the page it leaves, LangChain's loop, the server), with a scripted model that takes no
time; and the size of the page state it is shown.

The flow is the tests' fixture shop (search, results, next page, detail, answer) served on
loopback, run ``--rounds`` times through the local server and our client.

Also the memory of agent tasks alive at once (``--memory-tasks``): the server process and every
process under it (the browser's), with the browser warm, then with that many tasks paused mid-flow.

A real model takes a while to answer, which the browser may use (Playwright builds its injected
script in a new document then): ``--think-ms 500`` has the scripted model take that long, and the
figure is still only the time outside the model.

Usage: .venv/bin/python bench/model_agent.py [--rounds 10] [--memory-tasks 8] [--think-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import psutil
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import LocalServerSettings, ThreadedServer
from smooth_agents.local.server import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixture site
from tests.helpers import SITE_DIR

KEY = "sk-bench-agent"


class StaticSite:
    """The fixture site's static pages, served by a process of their own: a web site is never in
    the server's process, and one there would take the interpreter from it."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "-d", SITE_DIR],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        raise RuntimeError("the static site did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> StaticSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(10)


class TimedModel(ScriptedChatModel):
    """Notes when it is asked and when it answers, and what the last tool answered; it thinks
    for ``think`` seconds first, as a real model does (the browser may use that time)."""

    # (asked, answered, the tool whose answer the model is shown, its size), over every flow.
    calls: ClassVar[list[tuple[float, float, str, int]]] = []
    think: ClassVar[float] = 0.0

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        asked = time.perf_counter()
        last = messages[-1]
        tool = last.name if isinstance(last, ToolMessage) else "(start)"
        size = len(str(last.content)) if isinstance(last, ToolMessage) else 0
        time.sleep(TimedModel.think)
        answer = super()._generate(messages, *args, **kwargs)
        TimedModel.calls.append((asked, time.perf_counter(), str(tool), size))
        return answer


def ref_of(messages: Sequence[BaseMessage], role: str, label: str) -> str:
    state = next(str(m.content) for m in reversed(messages) if "URL: " in str(m.content))
    found = re.search(rf'- {role} "{re.escape(label)}[^"]*" \[ref=(e\d+)\]', state)
    assert found, state
    return found.group(1)


def call(name: str, arguments: Any = None) -> Any:
    def step(m: Sequence[BaseMessage]) -> AIMessage:
        args = arguments(m) if arguments else {}
        return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"c{len(m)}"}])

    return step


def flow() -> list[Any]:
    # Each action answers with the page after it, so the model acts on every turn.
    return [
        call(
            "type_text", lambda m: {"ref": ref_of(m, "searchbox", "Search"), "text": "nimbus", "submit": True}
        ),
        call("click", lambda m: {"ref": ref_of(m, "link", "Next page")}),
        call("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}),
        call("finish", lambda m: {"answer_json": json.dumps({"name": "Nimbus Ultra"})}),
    ]


class PausingModel(BaseChatModel):
    """For the memory figure: searches the shop, then waits (its thread parked) until released,
    so that every task is alive at once; decides from the conversation alone (tasks share it)."""

    release: Any = None
    paused: Any = None

    @property
    def _llm_type(self) -> str:
        return "pausing"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> PausingModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError("asked asynchronously")

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        # Async, so a parked task holds no thread (the default executor has few).
        answered = [m for m in messages if isinstance(m, ToolMessage)]
        if not answered:
            ref = ref_of(messages, "searchbox", "Search")
            typed = {"ref": ref, "text": "nimbus", "submit": True}
            reply = AIMessage("", tool_calls=[{"name": "type_text", "args": typed, "id": "t"}])
        else:
            self.paused.release()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            reply = AIMessage("", tool_calls=[{"name": "finish", "args": {"answer_json": "done"}, "id": "f"}])
        return ChatResult(generations=[ChatGeneration(message=reply)])


def tree_rss() -> int:
    """Memory of this process and every process under it (the browser's included), each counted
    by its proportional set size: pages shared between Chromium's processes are counted once."""
    me = psutil.Process()
    total = 0
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += process.memory_full_info().pss
    return total


async def memory_per_task(base: str, site: StaticSite, model: PausingModel, tasks: int) -> tuple[int, int]:
    async with AsyncSmoothClient(api_key=KEY, base_url=base) as client:
        model.release.set()  # a warm-up task: browser started, code paths loaded
        await (await client.run("warm up", url=site.url("shop/index.html"))).result(timeout=60)
        model.release.clear()
        await asyncio.sleep(1.0)
        before = tree_rss()
        handles = [await client.run("Search", url=site.url("shop/index.html")) for _ in range(tasks)]
        for _ in range(tasks):
            await asyncio.to_thread(model.paused.acquire)
        await asyncio.sleep(0.5)
        during = tree_rss()
        model.release.set()
        for handle in handles:
            await handle.result(timeout=60)
    return before, during


async def run_flows(base: str, site: StaticSite, model: TimedModel, rounds: int) -> None:
    async with AsyncSmoothClient(api_key=KEY, base_url=base) as client:
        for _ in range(rounds):
            model.steps = flow()
            model._position = 0
            handle = await client.run("Find the Nimbus Ultra", url=site.url("shop/index.html"))
            await handle.result(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--memory-tasks", type=int, default=8, help="agent tasks alive at once (0: skip)")
    parser.add_argument("--no-recording", action="store_true", help="the server records no video")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="how long the scripted model takes to answer (default 0)"
    )
    options = parser.parse_args()
    rounds = options.rounds
    if options.memory_tasks:
        pausing = PausingModel(release=threading.Event(), paused=threading.Semaphore(0))
        settings = LocalServerSettings(
            api_keys=frozenset({KEY}),
            port=0,
            data_dir=Path(tempfile.mkdtemp()),
            model=pausing,
            recording=not options.no_recording,
        )
        with StaticSite() as site, ThreadedServer(settings) as server:
            before, during = asyncio.run(
                memory_per_task(server.base_url, site, pausing, options.memory_tasks)
            )
        per_task = (during - before) / options.memory_tasks / 2**20
        print(
            f"memory: {before / 2**20:.0f} MiB with the browser warm, {during / 2**20:.0f} MiB with "
            f"{options.memory_tasks} agent tasks alive: {per_task:.1f} MiB a task (server, model loop, "
            "browser context and its renderer)"
        )
    TimedModel.think = options.think_ms / 1000
    model = TimedModel()
    settings = LocalServerSettings(
        api_keys=frozenset({KEY}),
        port=0,
        data_dir=Path(tempfile.mkdtemp()),
        model=model,
        recording=not options.no_recording,
    )
    with StaticSite() as site, ThreadedServer(settings) as server:
        asyncio.run(run_flows(server.base_url, site, model, rounds))
    gaps: dict[str, list[float]] = defaultdict(list)
    sizes: list[int] = []
    calls = TimedModel.calls
    for (_, answered, _, _), (asked, _, tool, size) in itertools.pairwise(calls):
        if tool == "(start)":
            continue  # a new task began: not a step
        gaps[tool].append(asked - answered)
        sizes.append(size)
    everything = [g for values in gaps.values() for g in values]
    print(
        f"per step, from the model's tool call to its next call ({rounds} flows, "
        f"the model thinking {options.think_ms:g} ms a call):"
    )
    for tool, values in sorted(gaps.items()):
        values.sort()
        p90 = values[int(0.9 * (len(values) - 1))]
        p50 = statistics.median(values)
        print(f"  {tool:<12} p50 {p50 * 1000:6.1f} ms  p90 {p90 * 1000:6.1f} ms  n={len(values)}")
    print(f"  all steps    p50 {statistics.median(everything) * 1000:6.1f} ms (aim < 150 ms)")
    print(f"an action's answer (its outcome and the page after it): {min(sizes)}-{max(sizes)} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
