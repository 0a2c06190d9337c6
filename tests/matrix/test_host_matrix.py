"""The host matrix: each way a real host calls smooth-mcp (or the toolkit), against each kind of
web work, asserting that the answer reaches the text the host's model reads.

Hosts (tests/matrix/hosts.py): the mcp ``Client`` over stdio in its default mode and with the
handshake, over SSE, over streamable HTTP (handshake, 2026-07-28, stateless); langchain-mcp-adapters
in its default mode (a new connection per call; over streamable HTTP and stdio) and its session
mode; the MCP Inspector CLI (a process per call); ``SmoothToolkit`` inside ``create_agent``. The
official SDK on the REST server has its own row (test_sdk_row). A new tool or kind of task adds its
kind here; a new host style adds its host.

Servers are shared by every cell (tests/matrix/world.py); a host is started once and serves all
its cells.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult
from pydantic import SecretStr
from smooth import SmoothAsyncClient, ToolCallError

from langchain_tools import SmoothToolkit
from smooth_agents import AsyncSmoothClient
from smooth_agents.protocol import live_view_link
from tests.helpers import API_KEY, SiteServer
from tests.matrix.hosts import (
    ADAPTERS_PYTHON,
    INSPECTOR,
    AdaptersHost,
    Host,
    InspectorHost,
    McpClientHost,
    Seen,
    ToolkitHost,
    stdio_parameters,
)
from tests.matrix.world import World, world
from tests.person import hand_back, person_browser
from tests.reading import part_in_text, read_on_arguments

PRODUCT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
    "required": ["name", "price"],
}
LAPTOP = {"type": "object", "properties": {"title": {"type": "string"}, "price": {"type": "number"}}}

# The hosts that are the mcp SDK's Client (one connection kept for every call).
MCP_CLIENT_HOSTS = ("stdio", "stdio-handshake", "sse", "http-handshake", "http", "http-stateless")
HOSTS = [
    "stdio",
    "stdio-handshake",
    "sse",
    "http-handshake",
    "http",
    "http-stateless",
    "adapters-default-http",
    "adapters-default-stdio",
    "adapters-session-stdio",
    "inspector-http",
    "toolkit-agent",
]
# Cells that cannot apply, and why.
NOT_APPLICABLE = {
    # Each call is a new smooth-mcp process, and a process closes the sessions it opened when it
    # ends (over stdio the process is the client): use the session mode, or HTTP, or, with no
    # Smooth key, --shared-browser (tests/matrix/test_shared_browser.py).
    ("adapters-default-stdio", "session_flow"): "a process per call",
    ("adapters-default-stdio", "handoff"): "a process per call",
    # A crawl runs in the server process that started it, which ends with the call.
    ("adapters-default-stdio", "crawl_running"): "a process per call",
}
# Hosts whose handoff call itself waits for the person (the LangChain callback tells them), where
# the others answer at once with the link and wait on the next call.
HANDOFF_WAITS = {"toolkit-agent"}


@pytest.fixture(scope="module")
def shared(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(site, tmp_path_factory.mktemp("matrix-data")) as made:
        yield made


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


@pytest.fixture(scope="module")
async def hosts(shared: World) -> AsyncIterator[Hosts]:
    async with AsyncExitStack() as stack:
        shared.person = await stack.enter_async_context(person_browser())
        yield Hosts(shared, stack)


# The kinds of work. Each is what a model does with what it reads: ids and read-on calls are
# taken from the text, never from structured content.


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


# The demo site's pages as a map of it lists them (its listing has three numbered pages).
DEMO_PAGES = (
    "index.html",
    "product.html",
    "listing.html",
    "article.html",
    "table.html",
    *(f"listing.html?page={n}" for n in (1, 2, 3)),
)


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
CELLS = [
    pytest.param(host, kind, id=f"{host}-{kind}")
    for host in HOSTS
    for kind in KINDS
    if (host, kind) not in NOT_APPLICABLE
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("host_name", "kind"), CELLS)
async def test_cell(hosts: Hosts, host_name: str, kind: str) -> None:
    host = await hosts.get(host_name)
    await KINDS[kind](host, hosts.world, f"{host_name}.{kind}")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("host_name", MCP_CLIENT_HOSTS)
async def test_handoff_to_a_host_that_elicits(hosts: Hosts, host_name: str) -> None:
    """The mcp Client hosts with an elicitation callback: the person is sent to the live view by
    URL-mode elicitation, goes, and presses Done; one call answers with the page."""
    made = hosts.world
    asked: list[str] = []
    pressed: list[asyncio.Task[str]] = []

    async def person_at_the_host(context: Any, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestURLParams), params
        asked.append(params.url)
        pressed.append(asyncio.create_task(hand_back(made.person, params.url, SIGN_IN)))
        return ElicitResult(action="accept")

    async with hosts.mcp_client(host_name, elicitation_callback=person_at_the_host) as client:
        host = McpClientHost(host_name, client)
        session_id, link = await open_login(host, made)
        seen = await host.call("smooth_session_handoff", {"session_id": session_id, "message": SIGN_IN})
        handed_back(seen)
        await host.call("smooth_session_close", {"session_id": session_id})
    assert asked == [link]  # the interactive live view
    assert len(pressed) == 1
    assert SIGN_IN in await pressed[0]


# The official SDK (smooth-py) on the REST server: the same kinds, where the REST API has them
# (it returns whole results, so there is nothing to read on).


async def sdk_page_read(smooth: SmoothAsyncClient, made: World, cell: str) -> None:
    handle = await smooth.run("Read the page", url=made.site.url("demo/article.html"))
    done = await handle.result(timeout=120)
    assert done.status == "done"
    assert "Riverside approves 40 km of protected bike lanes" in str(done.output)


async def sdk_extraction(smooth: SmoothAsyncClient, made: World, cell: str) -> None:
    session = await smooth.session()
    try:
        await session.goto(made.site.url("demo/product.html"))
        extracted = await session.extract(LAPTOP)
        assert extracted.output == {"title": "Nimbus 14 Pro Laptop", "price": 1299}
    finally:
        assert await session.close(force=False) is True


async def sdk_model_task(smooth: SmoothAsyncClient, made: World, cell: str) -> None:
    handle = await smooth.run(
        f"Find the price of the Nimbus Ultra [cell {cell}]",
        url=made.site.url("shop/index.html"),
        response_model=PRODUCT,
    )
    with pytest.raises(TimeoutError):
        await handle.result(timeout=1)
    made.gates.open(cell)
    done = await handle.result(timeout=120)
    assert done.status == "done"
    assert done.output == {"name": "Nimbus Ultra", "price": 1899.0}


async def sdk_session_flow(smooth: SmoothAsyncClient, made: World, cell: str) -> None:
    session = await smooth.session()
    try:
        await session.goto(made.site.url("demo/index.html"))
        await session.goto(made.site.url("demo/product.html"))
        title = await session.evaluate_js("document.title")
        assert title.output == "Nimbus 14 Pro Laptop | Demo Store"
    finally:
        assert await session.close(force=False) is True


async def sdk_failing_page(smooth: SmoothAsyncClient, made: World, cell: str) -> None:
    session = await smooth.session()
    try:
        with pytest.raises(ToolCallError) as failed:
            await session.goto("http://127.0.0.1:9/nothing-here")
        assert "127.0.0.1:9" in str(failed.value)
    finally:
        assert await session.close(force=False) is True


SDK_KINDS: dict[str, Callable[[SmoothAsyncClient, World, str], Awaitable[None]]] = {
    "page_read": sdk_page_read,
    "extraction": sdk_extraction,
    "model_task": sdk_model_task,
    "session_flow": sdk_session_flow,
    "failing_page": sdk_failing_page,
}


# smooth-py 0.4.5 serialises its own deprecated ``session_id`` field on every task it submits.
@pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", list(SDK_KINDS))
async def test_sdk_row(shared: World, kind: str) -> None:
    async with SmoothAsyncClient(api_key=API_KEY, base_url=shared.local.base_url) as smooth:
        await SDK_KINDS[kind](smooth, shared, f"sdk.{kind}")
