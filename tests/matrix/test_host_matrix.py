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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from mcp_types import ElicitRequestParams, ElicitRequestURLParams, ElicitResult
from smooth import SmoothAsyncClient, ToolCallError

from tests.helpers import API_KEY, SiteServer
from tests.matrix.hosts import MCP_CLIENT_HOSTS, Hosts, McpClientHost
from tests.matrix.kinds import KINDS, LAPTOP, PRODUCT, SIGN_IN, handed_back, open_login
from tests.matrix.world import World, world
from tests.person import hand_back, person_browser

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


@pytest.fixture(scope="module")
def shared(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(site, tmp_path_factory.mktemp("matrix-data")) as made:
        yield made


@pytest.fixture(scope="module")
async def hosts(shared: World) -> AsyncIterator[Hosts]:
    async with AsyncExitStack() as stack:
        shared.person = await stack.enter_async_context(person_browser())
        yield Hosts(shared, stack)


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
