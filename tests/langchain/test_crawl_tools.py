"""smooth_map, smooth_crawl and smooth_extract with urls as LangChain tools: the same definitions
as over MCP, what the model reads in each ToolMessage, read on and followed with the status tool."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from langchain_tools import (
    SmoothCrawlTool,
    SmoothExtractTool,
    SmoothMapTool,
    SmoothTaskCancelTool,
    SmoothTaskStatusTool,
    SmoothToolkit,
)
from smooth_agents.agent_tools import BlockingToolRuntime
from tests.helpers import LAPTOP, SiteServer
from tests.reading import part_in_text, read_on_arguments

DEMO = ("index.html", "product.html", "listing.html", "article.html", "table.html")


def shown(tool: BaseTool, arguments: dict[str, Any]) -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": arguments})
    assert isinstance(message, ToolMessage)
    assert message.status != "error", message.content
    return message


def test_the_toolkit_hands_out_map_and_crawl_from_the_core_definitions() -> None:
    with SmoothToolkit(api_key="sk-x") as toolkit:
        tools = {tool.name: tool for tool in toolkit.get_tools()}
    assert isinstance(tools["smooth_map"], SmoothMapTool)
    assert isinstance(tools["smooth_crawl"], SmoothCrawlTool)
    assert tools["smooth_crawl"].description == SmoothCrawlTool.definition.description


def test_a_map_then_a_crawl_read_on_in_parts(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    mapped = shown(
        SmoothMapTool(runtime=lc_runtime), {"url": site.url("demo/index.html"), "include": ["**/demo/**"]}
    )
    listed = part_in_text(str(mapped.content)).splitlines()
    assert {site.url(f"demo/{page}") for page in DEMO} <= set(listed)
    assert mapped.artifact["status"] == "done"

    # The runtime's budget is 2,000 characters: the crawl comes in parts, read on with the status tool.
    status = SmoothTaskStatusTool(runtime=lc_runtime)
    parts = [
        str(
            shown(
                SmoothCrawlTool(runtime=lc_runtime),
                {"url": site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 5},
            ).content
        )
    ]
    while (arguments := read_on_arguments(parts[-1])) is not None:
        assert len(parts) < 40
        parts.append(str(shown(status, arguments).content))
    assert len(parts) >= 2
    whole = "".join(part_in_text(part) for part in parts)
    assert len(re.findall(r"^=== Page \d+: ", whole, re.MULTILINE)) == 5
    assert "Nimbus 14 Pro Laptop" in whole


def test_a_running_crawl_is_followed_and_cancelled(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    crawl = SmoothCrawlTool(runtime=lc_runtime)
    status = SmoothTaskStatusTool(runtime=lc_runtime)
    started = shown(crawl, {"url": site.url("slow?s=2"), "wait_seconds": 0.5})
    assert started.artifact["status"] == "running", started.content
    task_id = started.artifact["task_id"]
    assert f'smooth_task_status(task_id="{task_id}", start_index=0)' in str(started.content)
    deadline = time.monotonic() + 60
    while (seen := shown(status, {"task_id": task_id})).artifact["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "slow done" in str(seen.content)

    # A crawl stopped while it runs says so, and keeps what it read.
    slow = shown(crawl, {"url": site.url("slow?s=5"), "wait_seconds": 0.5})
    stopped = shown(SmoothTaskCancelTool(runtime=lc_runtime), {"task_id": slow.artifact["task_id"]})
    assert stopped.artifact["cancelled"] is True
    after = shown(status, {"task_id": slow.artifact["task_id"]})
    assert after.artifact["status"] == "cancelled"
    assert "Cancelled after 0 pages" in str(after.content)


def test_extract_with_urls_async(lc_runtime: BlockingToolRuntime, site: SiteServer) -> None:
    urls = [site.url("demo/product.html"), site.url("status/500")]

    async def called() -> ToolMessage:
        message = await SmoothExtractTool(runtime=lc_runtime).ainvoke(
            {
                "type": "tool_call",
                "id": "c2",
                "name": "smooth_extract",
                "args": {"urls": urls, "json_schema": LAPTOP},
            }
        )
        assert isinstance(message, ToolMessage)
        return message

    message = asyncio.run(called())
    entries = json.loads(part_in_text(str(message.content)))
    assert [entry["url"] for entry in entries] == urls
    assert entries[0]["data"] == {"title": "Nimbus 14 Pro Laptop", "price": 1299}
    assert entries[1].get("status") == 500
