"""The local model agent's own cost per step: from a model's tool call to the next model call
(the action, the page it leaves, LangChain's loop, the server), with a scripted model that takes no
time; and the size of the page state it is shown.

The flow is the tests' fixture shop (search, results, next page, detail, answer) served on
loopback, run ``--rounds`` times through the local server and our client.

Usage: .venv/bin/python bench/model_agent.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import LocalServerSettings, ThreadedServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixture site
from tests.helpers import SiteServer

KEY = "sk-bench-agent"


class TimedModel(ScriptedChatModel):
    """Notes when it is called and what the last tool answered."""

    # (when, the tool whose answer the model is shown, that answer's size), over every flow.
    calls: ClassVar[list[tuple[float, str, int]]] = []

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        last = messages[-1]
        tool = last.name if isinstance(last, ToolMessage) else "(start)"
        size = len(str(last.content)) if isinstance(last, ToolMessage) else 0
        TimedModel.calls.append((time.perf_counter(), str(tool), size))
        return super()._generate(messages, *args, **kwargs)


def ref_of(messages: Sequence[BaseMessage], role: str, label: str) -> str:
    state = next(str(m.content) for m in reversed(messages) if isinstance(m, ToolMessage))
    found = re.search(rf'- {role} "{re.escape(label)}[^"]*" \[ref=(e\d+)\]', state)
    assert found, state
    return found.group(1)


def call(name: str, arguments: Any = None) -> Any:
    def step(m: Sequence[BaseMessage]) -> AIMessage:
        args = arguments(m) if arguments else {}
        return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"c{len(m)}"}])

    return step


def flow() -> list[Any]:
    return [
        call("page_state"),
        call(
            "type_text", lambda m: {"ref": ref_of(m, "searchbox", "Search"), "text": "nimbus", "submit": True}
        ),
        call("page_state"),
        call("click", lambda m: {"ref": ref_of(m, "link", "Next page")}),
        call("page_state"),
        call("click", lambda m: {"ref": ref_of(m, "link", "Nimbus Ultra")}),
        call("page_state"),
        call("finish", lambda m: {"answer_json": json.dumps({"name": "Nimbus Ultra"})}),
    ]


async def run_flows(base: str, site: SiteServer, model: TimedModel, rounds: int) -> None:
    async with AsyncSmoothClient(api_key=KEY, base_url=base) as client:
        for _ in range(rounds):
            model.steps = flow()
            model._position = 0
            handle = await client.run("Find the Nimbus Ultra", url=site.url("shop/index.html"))
            await handle.result(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    model = TimedModel()
    settings = LocalServerSettings(
        api_keys=frozenset({KEY}), port=0, data_dir=Path(tempfile.mkdtemp()), model=model
    )
    with SiteServer() as site, ThreadedServer(settings) as server:
        asyncio.run(run_flows(server.base_url, site, model, rounds))
    gaps: dict[str, list[float]] = defaultdict(list)
    sizes: list[int] = []
    for (earlier, _, _), (later, tool, size) in zip(TimedModel.calls, TimedModel.calls[1:], strict=False):
        if tool == "(start)":
            continue  # a new task began: not a step
        gaps[tool].append(later - earlier)
        if tool == "page_state":
            sizes.append(size)
    everything = [g for values in gaps.values() for g in values]
    print(f"per step, from the model's tool call to its next call ({rounds} flows):")
    for tool, values in sorted(gaps.items()):
        values.sort()
        p90 = values[int(0.9 * (len(values) - 1))]
        p50 = statistics.median(values)
        print(f"  {tool:<12} p50 {p50 * 1000:6.1f} ms  p90 {p90 * 1000:6.1f} ms  n={len(values)}")
    print(f"  all steps    p50 {statistics.median(everything) * 1000:6.1f} ms (aim < 150 ms)")
    print(f"page state shown to the model: {min(sizes)}-{max(sizes)} characters on the fixture pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
