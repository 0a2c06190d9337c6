"""What the local model agent's model reads each turn on a long task over real pages: characters
per turn by step, the bounded context (langchain_tools.agent_context) beside the whole
conversation (the agent before it), the same task and pages.

The pages are real articles no one here wrote (``../shared/benchmarks/article``, ``--data`` to
point elsewhere), served on loopback; a scripted model opens each, reads it (all its parts), looks
at the page and scrolls, as a model working through search results would, then answers.

Usage: .venv/bin/python bench/agent_context.py [--pages 6] [--data ../shared/benchmarks]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
import tempfile
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, BaseMessage

import langchain_tools.browser_agent as browser_agent
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient
from smooth_agents.local import LocalServerSettings, ThreadedServer
from smooth_agents.local.server import free_port

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-context"


class Articles:
    """The benchmark's pages (gzipped HTML), served as they are."""

    def __init__(self, folder: Path, count: int) -> None:
        files = sorted(folder.glob("*.html.gz"))[:count]
        pages = {f"/{i}.html": gzip.decompress(f.read_bytes()) for i, f in enumerate(files)}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.count = len(pages)
        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{index}.html"

    def close(self) -> None:
        self._server.shutdown()


def size(messages: Sequence[BaseMessage]) -> int:
    total = 0
    for message in messages:
        total += len(message.content if isinstance(message.content, str) else json.dumps(message.content))
        if isinstance(message, AIMessage):
            total += sum(len(c["name"]) + len(json.dumps(c["args"])) for c in message.tool_calls)
    return total


def read_all(messages: Sequence[BaseMessage]) -> AIMessage:
    """Reads on while the last read says there is a next part, else scrolls."""
    last = str(messages[-1].content)
    marker = "call read_page with start="
    if marker in last:
        start = int(last.split(marker, 1)[1].split(" ", 1)[0])
        return AIMessage(
            "", tool_calls=[{"name": "read_page", "args": {"start": start}, "id": f"c{len(messages)}"}]
        )
    return AIMessage("", tool_calls=[{"name": "scroll", "args": {}, "id": f"c{len(messages)}"}])


def script(articles: Articles) -> list[Any]:
    def call(name: str, **args: Any) -> Any:
        return lambda m: AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"c{len(m)}"}])

    steps: list[Any] = []
    for index in range(articles.count):
        steps += [
            call("goto", url=articles.url(index)),
            call("read_page"),
            read_all,
            read_all,
            call("page_state"),
        ]
    return [*steps, call("finish", answer_json="read them all")]


class WholeConversation(AgentMiddleware[Any, Any, Any]):
    """Stands for the bounded context in the run before it: the model reads every message."""


async def one_run(articles: Articles, bounded: bool) -> list[int]:
    model = ScriptedChatModel(steps=script(articles))
    if not bounded:
        browser_agent.bounded_context = WholeConversation  # type: ignore[assignment,misc]
    try:
        with tempfile.TemporaryDirectory() as data:
            settings = LocalServerSettings(
                api_keys=frozenset({KEY}), port=free_port(), data_dir=Path(data), model=model, recording=False
            )
            with ThreadedServer(settings) as server:
                async with AsyncSmoothClient(api_key=KEY, base_url=server.base_url) as client:
                    handle = await client.run("Read these articles", max_steps=128)
                    await handle.result(timeout=600)
    finally:
        browser_agent.bounded_context = BOUNDED
    return [size(turn) for turn in model.seen]


BOUNDED = browser_agent.bounded_context


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    args = parser.parse_args()
    folder = args.data / "article" / "html"
    if not folder.is_dir():
        print(f"no benchmark pages at {folder} (--data)", file=sys.stderr)
        return 2
    articles = Articles(folder, args.pages)
    try:
        before = asyncio.run(one_run(articles, bounded=False))
        after = asyncio.run(one_run(articles, bounded=True))
    finally:
        articles.close()
    print(f"{articles.count} real articles; characters the model read at each turn")
    print(f"{'turn':>4}  {'whole conversation':>18}  {'bounded':>8}  {'ratio':>6}")
    for turn, (whole, kept) in enumerate(zip(before, after, strict=False), start=1):
        print(f"{turn:>4}  {whole:>18,}  {kept:>8,}  {whole / kept:>6.1f}x")
    print(f"total {sum(before):>22,}  {sum(after):>8,}  {sum(before) / sum(after):>6.1f}x")
    print(f"largest turn {max(before):>15,}  {max(after):>8,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
