"""What a delegating model receives, measured: sizes per tool, tools/list, render overhead.

1. tools/list: characters of the whole listing (as JSON), and without output schemas, beside the
   figures of other servers (from issue 8: playwright-mcp 0.0.83 21,282 for 25 tools; Firecrawl
   71,779 for 26; ours before the renderer 21,273 for 15).
2. Per tool, on the demo pages of the local server: characters of the text part and of the
   structured part (compact JSON) of each answer, and one line of what the model reads.
3. Oversized values (a 180,000-character page): every part stays within the budget.
4. Render overhead for a 20 kB result: p50 of render() beside json.dumps of the same value.

Usage: .venv/bin/python bench/result_rendering.py
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mcp.client import Client

from mcp_server import MCPSettings, build_server
from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import ToolSettings, render
from smooth_agents.agent_tools.browse import TaskOutput
from smooth_agents.agent_tools.cutting import compact_json
from smooth_agents.local import LocalServerSettings, ThreadedServer

KEY = "sk-bench-render"
BUDGET = 20_000
PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
ROWS = {"type": "array", "items": PRODUCT}


def long_page(chars: int) -> str:
    words = ["browser", "agent", "naïve", "café", "東京", "データ", "🚀", "résumé"]
    paragraphs, size = [], 0
    while size < chars:
        text = f"Paragraph {len(paragraphs)}: " + " ".join(
            words[(len(paragraphs) + i) % len(words)] for i in range(60)
        )
        paragraphs.append(f"<p>{text}</p>")
        size += len(text) + 2
    return (
        "<html><head><title>Long</title></head><body><article>"
        + "\n".join(paragraphs)
        + "</article></body></html>"
    )


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the console."""


def static_site(folder: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


async def measure(mcp: Client, name: str, arguments: dict[str, Any]) -> tuple[int, int, str, dict[str, Any]]:
    result = await mcp.call_tool(name, arguments)
    text = str(result.content[0].text)  # type: ignore[union-attr]
    structured = dict(result.structured_content or {})
    if result.is_error:
        raise SystemExit(f"{name} failed: {text}")
    return len(text), len(compact_json(structured)), text, structured


def first_line(text: str, width: int = 90) -> str:
    lines = text.split("\n")
    shown = lines[0] + (" | " + lines[1] if len(lines) > 1 else "")
    return shown if len(shown) <= width else shown[: width - 1] + "…"


async def per_tool(mcp: Client, demo: str, long_url: str) -> None:
    print(
        f"\n2. per tool on the demo pages (budget {BUDGET:,}): "
        "text chars, structured chars, what the model reads"
    )
    rows: list[tuple[str, int, int, str]] = []

    async def row(label: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        text_chars, structured_chars, text, structured = await measure(mcp, name, arguments)
        rows.append((label, text_chars, structured_chars, first_line(text)))
        return structured

    for page in ("product", "listing", "article", "table"):
        await row(f"smooth_browse {page}", "smooth_browse", {"task": "read", "url": f"{demo}{page}.html"})
    await row(
        "smooth_browse product+schema",
        "smooth_browse",
        {"task": "product", "url": f"{demo}product.html", "response_schema": json.dumps(PRODUCT)},
    )
    await row(
        "smooth_extract product",
        "smooth_extract",
        {"url": f"{demo}product.html", "json_schema": json.dumps(PRODUCT)},
    )
    await row(
        "smooth_extract listing rows",
        "smooth_extract",
        {"url": f"{demo}listing.html", "json_schema": json.dumps(ROWS)},
    )
    opened = await row("smooth_session_open", "smooth_session_open", {"url": f"{demo}index.html"})
    sid = opened["session_id"]
    await row("smooth_session_goto", "smooth_session_goto", {"session_id": sid, "url": f"{demo}listing.html"})
    await row(
        "smooth_session_extract",
        "smooth_session_extract",
        {"session_id": sid, "json_schema": json.dumps(ROWS)},
    )
    await row(
        "smooth_session_evaluate_js title",
        "smooth_session_evaluate_js",
        {"session_id": sid, "code": "document.title"},
    )
    await row(
        "smooth_session_evaluate_js innerText",
        "smooth_session_evaluate_js",
        {"session_id": sid, "code": "document.body.innerText"},
    )
    await row(
        "smooth_session_run_task", "smooth_session_run_task", {"session_id": sid, "task": "read the page"}
    )
    await row("smooth_session_list", "smooth_session_list", {})
    await row("smooth_task_status (session)", "smooth_task_status", {"task_id": sid})
    await row("smooth_session_close", "smooth_session_close", {"session_id": sid})
    await row("smooth_profile_create", "smooth_profile_create", {"profile_id": "bench"})
    await row("smooth_profile_list", "smooth_profile_list", {})
    await row("smooth_profile_delete", "smooth_profile_delete", {"profile_id": "bench"})
    for label, text_chars, structured_chars, line in rows:
        print(f"   {label:<40} {text_chars:>7,} {structured_chars:>7,}  {line}")

    print("\n3. a 180,000-character page: the first part and the read-on calls")
    for label, name, arguments in [
        ("smooth_browse", "smooth_browse", {"task": "read", "url": long_url}),
        (
            "smooth_extract {text}",
            "smooth_extract",
            {
                "url": long_url,
                "json_schema": json.dumps(
                    {
                        "type": "object",
                        "properties": {"text": {"type": "string", "description": "article body"}},
                    }
                ),
            },
        ),
    ]:
        text_chars, structured_chars, _, structured = await measure(mcp, name, arguments)
        parts, largest = 1, max(text_chars, structured_chars)
        while structured["next_start_index"] is not None:
            follow = {
                "task_id": structured.get("task_id") or structured["session_id"],
                "start_index": structured["next_start_index"],
            }
            if structured.get("event_id"):
                follow["event_id"] = structured["event_id"]
            text_chars, structured_chars, _, structured = await measure(mcp, "smooth_task_status", follow)
            parts += 1
            largest = max(largest, text_chars, structured_chars)
        print(
            f"   {label:<24} total {structured['total_chars']:>8,} chars in {parts} parts; "
            f"largest part {largest:,} (budget {BUDGET:,})"
        )


def p50_ms(action: Any, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def render_overhead() -> None:
    print("\n4. render overhead (p50), beside model_dump + json.dumps of the same result")
    row = {"name": "Widget model 000", "price": 13.99, "url": "https://shop.example/p/0"}
    for count, note in [(250, "fits the budget"), (2_000, "cut to the budget")]:
        rows = [dict(row, name=f"Widget model {i:03d}") for i in range(count)]
        value = TaskOutput(task_id="task_bench", status="done", output=rows)
        ours = p50_ms(lambda value=value: render("Answer:", value, BUDGET), 300)
        plain = p50_ms(lambda value=value: json.dumps(value.model_dump(mode="json")), 300)
        size = len(compact_json(rows))
        print(
            f"   {size:>9,} characters ({note}): render {ours:.3f} ms, dump {plain:.3f} ms, "
            f"ratio {ours / plain:.2f}"
        )


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "long.html").write_text(long_page(180_000), encoding="utf-8")
        site, web = static_site(folder)
        settings = LocalServerSettings(api_keys=frozenset({KEY}), port=0, data_dir=folder / "data")
        with ThreadedServer(settings) as local:
            async with AsyncSmoothClient(api_key=KEY, base_url=local.base_url) as client:
                mcp_settings = MCPSettings(tools=ToolSettings(content_budget=BUDGET, file_roots=(tmp,)))
                server, _ = build_server(mcp_settings, client=client)
                async with Client(server) as mcp:
                    tools = (await mcp.list_tools()).tools
                    listing = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
                    without_output = [{k: v for k, v in t.items() if k != "outputSchema"} for t in listing]
                    print(
                        f"1. tools/list: {len(tools)} tools, {len(json.dumps(listing)):,} characters; "
                        f"{len(json.dumps(without_output)):,} without output schemas "
                        "(before: 21,273 for 15; playwright-mcp 21,282 for 25 without;"
                        " Firecrawl 71,779 for 26)"
                    )
                    await per_tool(mcp, local.base_url.replace("/api/", "/demo/"), site + "long.html")
        web.shutdown()
    render_overhead()


if __name__ == "__main__":
    asyncio.run(main())
