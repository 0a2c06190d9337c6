"""The kinds of web work the host matrix runs through each host: what a model does with what it
reads, ids and read-on calls taken from the text, never from structured content. Each kind is
``async (host, world, cell)``, the cell a name unique to the run (a model task's gate)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

from smooth_agents import AsyncSmoothClient
from smooth_agents.protocol import live_view_link
from tests.helpers import API_KEY, DEMO_PAGES, LAPTOP
from tests.matrix.hosts import Host, Seen
from tests.matrix.world import World
from tests.person import hand_back
from tests.reading import part_in_text, read_on_arguments

PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}
# Hosts whose handoff call itself waits for the person (the LangChain callback tells them), where
# the others answer at once with the link and wait on the next call.
HANDOFF_WAITS = {"toolkit-agent"}


async def page_read(host: Host, made: World, cell: str) -> None:
    seen = await host.call(
        "smooth_browse", {"task": "Read the page", "url": made.site.url("demo/article.html")}
    )
    assert not seen.is_error, seen.text
    assert "Riverside approves 40 km of protected bike lanes" in seen.text
    assert "seven to two on Tuesday night" in seen.text


async def extraction(host: Host, made: World, cell: str) -> None:
    seen = await host.call(
        "smooth_extract", {"url": made.site.url("demo/product.html"), "json_schema": json.dumps(LAPTOP)}
    )
    assert not seen.is_error, seen.text
    assert json.loads(part_in_text(seen.text)) == {"title": "Nimbus 14 Pro Laptop", "price": 1299}


async def model_task(host: Host, made: World, cell: str) -> None:
    """A model-driven task outlives smooth_browse's wait; its answer comes by smooth_task_status."""
    seen = await host.call(
        "smooth_browse",
        {
            "task": f"Find the price of the Nimbus Ultra [cell {cell}]",
            "url": made.site.url("shop/index.html"),
            "response_schema": json.dumps(PRODUCT),
            "wait_seconds": 1,
        },
    )
    assert not seen.is_error, seen.text
    # Held by its gate, the task is still at work (or, on a loaded machine, not yet started).
    assert re.search(r"is (running|waiting)\. Still running after 1 s", seen.text), seen.text
    named = re.search(r"task_id='([^']+)'", seen.text)
    assert named, seen.text
    made.gates.open(cell)
    while True:
        seen = await host.call("smooth_task_status", {"task_id": named.group(1)})
        assert not seen.is_error, seen.text
        if "is running" not in seen.text and "is waiting" not in seen.text:
            break
        await asyncio.sleep(0.2)
    assert "Answer of task" in seen.text, seen.text
    assert json.loads(part_in_text(seen.text)) == {"name": "Nimbus Ultra", "price": 1899.0}


async def session_flow(host: Host, made: World, cell: str) -> None:
    """A session opened by one call is driven by the next ones."""
    opened = await host.call("smooth_session_open", {"url": made.site.url("demo/index.html")})
    assert not opened.is_error, opened.text
    named = re.search(r"Session (\S+) is open", opened.text)
    assert named, opened.text
    session_id = named.group(1)
    moved = await host.call(
        "smooth_session_goto", {"session_id": session_id, "url": made.site.url("demo/product.html")}
    )
    assert not moved.is_error, moved.text
    assert "Nimbus 14 Pro Laptop" in moved.text
    value = await host.call(
        "smooth_session_evaluate_js", {"session_id": session_id, "code": "document.title"}
    )
    assert not value.is_error, value.text
    assert "Nimbus 14 Pro Laptop | Demo Store" in value.text
    closed = await host.call("smooth_session_close", {"session_id": session_id})
    assert not closed.is_error, closed.text
    assert "closed" in closed.text.lower(), closed.text


async def read_on(host: Host, made: World, cell: str) -> None:
    """A result longer than the budget is read whole through the calls its text names."""
    parts = [
        (
            await host.call(
                "smooth_browse", {"task": "Read the page", "url": made.site.url("long?chars=45000")}
            )
        )
    ]
    while (arguments := read_on_arguments(parts[-1].text)) is not None:
        assert len(parts) < 20, "reading on does not end"
        parts.append(await host.call("smooth_task_status", arguments))
    assert not any(p.is_error for p in parts), [p.text[:300] for p in parts if p.is_error]
    assert len(parts) >= 3
    first = read_on_arguments(parts[0].text)
    assert first is not None
    async with AsyncSmoothClient(api_key=API_KEY, base_url=made.local.base_url) as client:
        whole = (await client.get_task(first["task_id"])).output
    assert isinstance(whole, str)
    assert len(whole) >= 45_000
    assert "".join(part_in_text(p.text) for p in parts) == whole


async def failing_page(host: Host, made: World, cell: str) -> None:
    """A page that cannot be reached: the model is told so, and which page."""
    seen = await host.call(
        "smooth_extract", {"url": "http://127.0.0.1:9/nothing-here", "json_schema": json.dumps(LAPTOP)}
    )
    assert seen.is_error, seen.text
    assert "127.0.0.1:9" in seen.text, seen.text
    assert "ERR_CONNECTION_REFUSED" in seen.text or "could not" in seen.text.lower(), seen.text


async def site_map(host: Host, made: World, cell: str) -> None:
    """A map of a small site on loopback lists its pages, one URL per line."""
    seen = await host.call(
        "smooth_map", {"url": made.site.url("demo/index.html"), "include": ["**/demo/**"], "limit": 20}
    )
    assert not seen.is_error, seen.text
    assert "Site map map_" in seen.text, seen.text
    assert sorted(part_in_text(seen.text).splitlines()) == sorted(
        made.site.url(f"demo/{p}") for p in DEMO_PAGES
    )


async def crawl(host: Host, made: World, cell: str) -> None:
    """A crawl with a schema gives each page's data, one JSON line per page."""
    seen = await host.call(
        "smooth_crawl",
        {
            "url": made.site.url("demo/index.html"),
            "include": ["**/demo/product.html"],
            "json_schema": json.dumps(LAPTOP),
            "limit": 5,
        },
    )
    assert not seen.is_error, seen.text
    lines = {line["url"]: line for line in map(json.loads, part_in_text(seen.text).splitlines())}
    assert set(lines) == {made.site.url("demo/index.html"), made.site.url("demo/product.html")}, seen.text
    assert lines[made.site.url("demo/product.html")]["data"] == {
        "title": "Nimbus 14 Pro Laptop",
        "price": 1299,
    }


async def crawl_running(host: Host, made: World, cell: str) -> None:
    """A crawl outliving its wait answers running with its id; smooth_task_status brings its pages."""
    seen = await host.call("smooth_crawl", {"url": made.site.url("slow?s=2"), "wait_seconds": 0.5})
    assert not seen.is_error, seen.text
    named = re.search(r"Crawl (crawl_\w+) of \S+ is running\.", seen.text)
    assert named, seen.text
    while True:
        seen = await host.call("smooth_task_status", {"task_id": named.group(1)})
        assert not seen.is_error, seen.text
        if "is running" not in seen.text:
            break
        await asyncio.sleep(0.2)
    assert f"Answer of task {named.group(1)} (done; text)" in seen.text, seen.text
    assert "slow done" in part_in_text(seen.text)


async def extract_urls(host: Host, made: World, cell: str) -> None:
    """smooth_extract with urls: one entry per page, in the order given, each failure its own."""
    urls = [made.site.url("demo/product.html"), "http://127.0.0.1:9/nothing-here"]
    seen = await host.call("smooth_extract", {"urls": urls, "json_schema": json.dumps(LAPTOP)})
    assert not seen.is_error, seen.text
    entries = json.loads(part_in_text(seen.text))
    assert [entry["url"] for entry in entries] == urls
    assert entries[0]["data"] == {"title": "Nimbus 14 Pro Laptop", "price": 1299}
    assert "127.0.0.1:9" in entries[1]["error"] or "ERR_CONNECTION_REFUSED" in entries[1]["error"]


SIGN_IN = "Sign in as Ada"


async def open_login(host: Host, made: World) -> tuple[str, str]:
    """A session on the sign-in page: its id and its interactive live view, as the text says them."""
    opened = await host.call("smooth_session_open", {"url": made.site.url("login/index.html")})
    assert not opened.is_error, opened.text
    named = re.search(r"Session (\S+) is open", opened.text)
    live = re.search(r"Live view: (\S+)", opened.text)
    assert named, opened.text
    assert live, opened.text
    return named.group(1), live_view_link(live.group(1), interactive=True)


def handed_back(seen: Seen) -> None:
    assert not seen.is_error, seen.text
    assert "handed session" in seen.text, seen.text
    assert "Sign in | Login Site" in seen.text  # the page as it then is
    assert "Username" in seen.text or "Sign in" in seen.text


async def handoff(host: Host, made: World, cell: str) -> None:
    """The browser handed to a person: a host that cannot ask the person gets the link at once
    and waits on the next call; the person presses Done on the live view."""
    session_id, link = await open_login(host, made)
    arguments = {"session_id": session_id, "message": SIGN_IN}
    asked = asyncio.create_task(host.call("smooth_session_handoff", arguments))
    if host.name not in HANDOFF_WAITS:
        told = await asyncio.wait_for(asked, 60)
        assert not told.is_error, told.text
        assert "waits for a person" in told.text, told.text
        assert link in told.text, told.text  # what to tell the person: the link, the message, Done
        assert SIGN_IN in told.text
        assert "press Done" in told.text
        asked = asyncio.create_task(host.call("smooth_session_handoff", arguments))
    await hand_back(made.person, link, SIGN_IN)
    handed_back(await asyncio.wait_for(asked, 60))
    closed = await host.call("smooth_session_close", {"session_id": session_id})
    assert not closed.is_error, closed.text


KINDS: dict[str, Callable[[Host, World, str], Awaitable[None]]] = {
    "page_read": page_read,
    "extraction": extraction,
    "model_task": model_task,
    "session_flow": session_flow,
    "read_on": read_on,
    "failing_page": failing_page,
    "handoff": handoff,
    "site_map": site_map,
    "crawl": crawl,
    "crawl_running": crawl_running,
    "extract_urls": extract_urls,
}
