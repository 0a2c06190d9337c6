"""smooth_map, smooth_crawl and smooth_extract with urls through an MCP client, in process: what the
model reads, read on in parts, a crawl left running and followed, cancelled, and each page's
failure its own."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from smooth_agents.agent_tools import ToolFailure, ToolRuntime
from smooth_agents.agent_tools.crawl import CRAWL
from smooth_agents.agent_tools.tasks import TASK_STATUS
from tests.crawl_site import CrawlSite
from tests.helpers import DEMO_PAGES, LAPTOP, SiteServer
from tests.reading import part_in_text, read_on_arguments

PRODUCT = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}


@pytest.fixture(scope="module")
def shop() -> Iterator[CrawlSite]:
    with CrawlSite() as made:
        yield made


def text_of(result: CallToolResult) -> str:
    return "\n".join(str(getattr(block, "text", "")) for block in result.content)


async def called(mcp: Client, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = await mcp.call_tool(name, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return text_of(result), dict(result.structured_content)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in part_in_text(text).splitlines() if line.strip()]


async def read_whole(mcp: Client, first: str) -> str:
    """The value a result's text begins, read on to its end through the calls the text names."""
    parts = [first]
    while (arguments := read_on_arguments(parts[-1])) is not None:
        assert len(parts) < 40, "reading on does not end"
        parts.append((await called(mcp, "smooth_task_status", arguments))[0])
    return "".join(part_in_text(part) for part in parts)


async def followed(mcp: Client, task_id: str) -> str:
    """The text of smooth_task_status once the job has ended."""
    for _ in range(600):
        text, structured = await called(mcp, "smooth_task_status", {"task_id": task_id})
        if structured["status"] != "running":
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{task_id} never ended")


async def test_map_lists_the_pages_of_a_small_site(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    async with Client(mcp_server[0]) as mcp:
        text, structured = await called(
            mcp, "smooth_map", {"url": site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 10}
        )
    listed = part_in_text(text).splitlines()
    assert sorted(listed) == sorted(site.url(f"demo/{page}") for page in DEMO_PAGES), text
    assert structured["status"] == "done"
    assert structured["pages"] == len(DEMO_PAGES)
    assert text.startswith(
        f"Site map {structured['task_id']} of {site.url('demo/index.html')} (done; 8 pages"
    )


async def test_crawl_with_a_schema_gives_each_products_data(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], shop: CrawlSite
) -> None:
    async with Client(mcp_server[0]) as mcp:
        text, structured = await called(
            mcp,
            "smooth_crawl",
            {
                "url": shop.url("/category/kitchen"),
                "include": ["**/products/**"],
                "limit": 6,
                "json_schema": json.dumps(PRODUCT),
            },
        )
    assert structured["form"] == "json_lines"
    products = shop.product_urls()
    lines = [line for line in json_lines(text) if line["url"] in products]
    assert len(lines) == 5, text  # the start page, then five of its products
    for line in lines:
        product = products[line["url"]]
        assert line["data"] == {"name": product.name, "price": float(product.price)}
    assert shop.outside_hits == 0


async def test_a_long_crawl_is_read_on_in_parts(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    # The fixture's budget is 2,000 characters: the demo site's pages take several parts.
    async with Client(mcp_server[0]) as mcp:
        first, structured = await called(
            mcp, "smooth_crawl", {"url": site.url("demo/index.html"), "include": ["**/demo/**"]}
        )
        parts = [first]
        while (arguments := read_on_arguments(parts[-1])) is not None:
            assert len(parts) < 40, "reading on does not end"
            assert arguments["task_id"] == structured["task_id"]
            parts.append((await called(mcp, "smooth_task_status", arguments))[0])
    assert len(parts) >= 3
    whole = "".join(part_in_text(part) for part in parts)
    assert len(whole) == structured["total_chars"]
    headers = re.findall(r"^=== Page (\d+): (\S+)", whole, re.MULTILINE)
    assert [int(n) for n, _ in headers] == list(range(1, len(DEMO_PAGES) + 1))
    assert sorted(url for _, url in headers) == sorted(site.url(f"demo/{page}") for page in DEMO_PAGES)
    assert "Riverside approves 40 km of protected bike lanes" in whole  # the article, as markdown


async def test_a_crawl_outliving_its_wait_answers_running_and_is_followed(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    async with Client(mcp_server[0]) as mcp:
        result = await mcp.call_tool(
            "smooth_crawl",
            {"url": site.url("slow?s=2"), "wait_seconds": 0.5, "limit": 3},
            progress_callback=on_progress,
        )
        text = text_of(result)
        assert not result.is_error, text
        named = re.search(r"Crawl (crawl_\w+) of .* is running\. Still running, 0 pages so far", text)
        assert named, text
        done = await followed(mcp, named.group(1))
        # Its pages come by smooth_task_status once it is done.
        assert "Answer of task" in done, done
        assert "slow done" in done

        # A crawl the call waits for tells of each page as it finishes.
        result = await mcp.call_tool(
            "smooth_crawl",
            {"url": site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 3},
            progress_callback=on_progress,
        )
        assert not result.is_error
    told = [message or "" for _, _, message in reports]
    assert [p for p, _, _ in reports][-3:] == [1.0, 2.0, 3.0], told
    assert all(total == 3.0 for _, total, _ in reports[-3:])
    assert "page 3 of at most 3" in told[-1], told


async def test_cancel_stops_a_crawl_and_keeps_its_pages_so_far(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], shop: CrawlSite
) -> None:
    async with Client(mcp_server[0]) as mcp:
        _, started = await called(
            mcp, "smooth_crawl", {"url": shop.url("/"), "limit": 100, "wait_seconds": 1}
        )
        assert started["status"] == "running"
        task_id = started["task_id"]
        while not (await called(mcp, "smooth_task_status", {"task_id": task_id}))[1]["output"]:
            await asyncio.sleep(0.1)  # until its first pages are in
        text, cancelled = await called(mcp, "smooth_task_cancel", {"task_id": task_id})
        assert cancelled["cancelled"] is True, text
        hits = sum(shop.hits.values())
        await asyncio.sleep(1.5)
        assert sum(shop.hits.values()) == hits  # nothing more is fetched
        text, status = await called(mcp, "smooth_task_status", {"task_id": task_id})
        assert status["status"] == "cancelled"
        assert status["output"].startswith("=== Page 1: ")
        assert "Cancelled after" in text
        _, again = await called(mcp, "smooth_task_cancel", {"task_id": task_id})
        assert again["cancelled"] is False
    runtime = mcp_server[1]
    assert not list(runtime.sessions.open_sessions())  # the crawl's sessions are its own


async def test_each_pages_failure_is_its_own(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer, shop: CrawlSite
) -> None:
    async with Client(mcp_server[0]) as mcp:
        text, structured = await called(
            mcp,
            "smooth_crawl",
            {"url": shop.url("/"), "include": ["**/missing", "**/about"], "limit": 3},
        )
        assert structured["pages"] == 3, text
        assert structured["failed"] == 1
        text = await read_whole(mcp, text)
        assert re.search(rf"=== Page \d: {re.escape(shop.url('/missing'))} · failed: HTTP 404", text), text
        assert re.search(rf"=== Page \d: {re.escape(shop.url('/about'))} · About us", text), text

        urls = [site.url("demo/product.html"), site.url("status/404"), "http://127.0.0.1:9/nothing-here"]
        text, structured = await called(
            mcp, "smooth_extract", {"urls": urls, "json_schema": json.dumps(LAPTOP)}
        )
    entries = json.loads(part_in_text(text))
    assert [entry["url"] for entry in entries] == urls  # in the order given
    assert entries[0]["data"] == {"title": "Nimbus 14 Pro Laptop", "price": 1299}
    assert entries[1].get("status") == 404
    assert "error" in entries[2]
    assert "data" not in entries[2]
    assert structured["task_id"].startswith("batch_")
    assert "1 of them failed" in text or "2 of them failed" in text


async def test_extract_takes_one_url_or_a_list_of_at_most_twenty(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    async with Client(mcp_server[0]) as mcp:
        both = await mcp.call_tool(
            "smooth_extract",
            {
                "url": site.url("demo/product.html"),
                "urls": [site.url("demo/index.html")],
                "json_schema": "{}",
            },
        )
        assert both.is_error
        assert "exactly one of url" in text_of(both)
        many = await mcp.call_tool(
            "smooth_extract",
            {"urls": [site.url(f"demo/product.html?n={n}") for n in range(21)], "json_schema": "{}"},
        )
        assert many.is_error
        assert "at most 20 pages" in text_of(many)


async def test_a_crawl_is_its_callers_own(
    mcp_server: tuple[MCPServer[ToolRuntime], ToolRuntime], site: SiteServer
) -> None:
    runtime = mcp_server[1]
    async with Client(mcp_server[0]):  # the runtime serves while a client is connected
        started = await runtime.invoke(CRAWL, {"url": site.url("demo/table.html"), "limit": 1}, owner="ada")
        with pytest.raises(ToolFailure, match="Unknown session"):
            await runtime.invoke(TASK_STATUS, {"task_id": started.task_id}, owner="bob")
        own = await runtime.invoke(TASK_STATUS, {"task_id": started.task_id}, owner="ada")
        assert own.status == "done"
