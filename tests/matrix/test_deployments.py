"""The host matrix under the deployments past one machine (docs/scaling.md), where each feature was
tested alone and the seams are new:

- **replicas**: two smooth-mcp processes (streamable HTTP, ``--stateless``) sharing their state in a
  real redis-server, behind a balancer that sends each HTTP request to the next replica in turn
  (tests/matrix/balancer.py): a host's calls, and the requests within one call, land on both;
- **pool**: the local server over a pool of two browsers that live elsewhere (Chromium processes
  reached over CDP, tests/chromium_nodes.py), smooth-mcp over each transport in front of it; and a
  pool with room for one session, to read what a host's model is told when every browser is full,
  then when none is up, then when one is back.

Each cell runs one kind of work (tests/matrix/kinds.py) through one host (tests/matrix/hosts.py)
and asserts what the host's model reads. A new deployment adds its section here.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chromium_nodes import CHROMIUM, ChromiumNode, chromium_nodes
from tests.helpers import SiteServer, wait_until
from tests.matrix.balancer import RoundRobinBalancer
from tests.matrix.hosts import Host, Hosts
from tests.matrix.kinds import KINDS
from tests.matrix.world import World, world
from tests.mcp.test_transports import http_server
from tests.person import person_browser
from tests.redis_server import redis_server

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the system Chromium")


# -- replicas sharing a store, behind a balancer ---------------------------------------------------

# Hosts that reach smooth-mcp over HTTP: the stateless mcp Client, langchain-mcp-adapters in its
# default mode (a connection per call) and its session mode, the Inspector CLI (a process per call).
REPLICA_HOSTS = ["http-stateless", "adapters-default-http", "adapters-session-http", "inspector-http"]
# Every kind but a crawl followed past its call: a crawl's pages are kept by the replica that ran
# it (docs/scaling.md), and the balancer sends the next call to the other one.
REPLICA_KINDS = [kind for kind in KINDS if kind != "crawl_running"]


@dataclass
class Replicas:
    world: World
    balancer: RoundRobinBalancer


@pytest.fixture(scope="module")
def replicas(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    with ExitStack() as stack:
        made = stack.enter_context(world(site, tmp_path_factory.mktemp("replicas"), mcp_http_servers=()))
        store = stack.enter_context(redis_server(tmp_path_factory.mktemp("redis")))
        flags = ("--stateless", "--state-url", store)
        bases = [stack.enter_context(http_server(made.env, "streamable-http", *flags))[0] for _ in (1, 2)]
        balancer = stack.enter_context(RoundRobinBalancer(bases))
        # What hosts connect to: the balancer, for every host of HTTP.
        made.http["http"] = made.http["http-stateless"] = balancer.base_url
        yield Replicas(made, balancer)


@asynccontextmanager
async def hosts_of(made: World, *, person: bool = True) -> AsyncIterator[Hosts]:
    """The hosts of a deployment, each started on first use (with the person at the live view)."""
    async with AsyncExitStack() as stack:
        if person:
            made.person = await stack.enter_async_context(person_browser())
        yield Hosts(made, stack)


@pytest.fixture(scope="module")
async def replica_hosts(replicas: Replicas) -> AsyncIterator[Hosts]:
    async with hosts_of(replicas.world) as hosts:
        yield hosts


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", REPLICA_KINDS)
@pytest.mark.parametrize("host_name", REPLICA_HOSTS)
async def test_replica_cell(replicas: Replicas, replica_hosts: Hosts, host_name: str, kind: str) -> None:
    host = await replica_hosts.get(host_name)
    before = len(replicas.balancer.tool_calls)
    await KINDS[kind](host, replicas.world, f"replicas.{host_name}.{kind}")
    # Each call went to the replica the call before it did not: every step of the work after the
    # first met a replica that had not seen the step before it.
    calls = replicas.balancer.tool_calls[before:]
    assert calls, "the cell's calls went through the balancer"
    assert all(one != other for one, other in itertools.pairwise(calls)), calls


# -- a pool of browsers behind the local server ----------------------------------------------------

POOL_HOSTS = ["stdio", "http", "adapters-default-http", "toolkit-agent"]
POOL_KINDS = ["page_read", "model_task", "session_flow", "read_on", "handoff", "crawl", "extract_urls"]


@dataclass
class Pool:
    world: World
    nodes: list[ChromiumNode]


@contextmanager
def pooled(site: SiteServer, folder: Path, browsers: int, capacity: int) -> Iterator[Pool]:
    """A world whose local server places sessions on ``browsers`` Chromium processes, each with
    room for ``capacity``, checked every half second."""
    with chromium_nodes(folder / "nodes") as start:
        nodes = start(browsers)
        settings = {
            "browser_cdp_endpoint": ",".join(node.endpoint for node in nodes),
            "browser_endpoint_capacity": capacity,
            "browser_health_interval": 0.5,
        }
        with world(site, folder / "data", local_settings=settings) as made:
            yield Pool(made, nodes)


@pytest.fixture(scope="module")
def pool(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    with pooled(site, tmp_path_factory.mktemp("pool"), browsers=2, capacity=6) as made:
        yield made


@pytest.fixture(scope="module")
async def pool_hosts(pool: Pool) -> AsyncIterator[Hosts]:
    async with hosts_of(pool.world) as hosts:
        yield hosts


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", POOL_KINDS)
@pytest.mark.parametrize("host_name", POOL_HOSTS)
async def test_pool_cell(pool: Pool, pool_hosts: Hosts, host_name: str, kind: str) -> None:
    host = await pool_hosts.get(host_name)
    await KINDS[kind](host, pool.world, f"pool.{host_name}.{kind}")


def showing(nodes: list[ChromiumNode], url: str) -> list[int]:
    """The indexes of the browsers that show ``url``."""
    return [index for index, node in enumerate(nodes) if url in node.pages()]


async def opened(host: Host, url: str) -> str:
    seen = await host.call("smooth_session_open", {"url": url})
    assert not seen.is_error, seen.text
    named = re.search(r"Session (\S+) is open", seen.text)
    assert named, seen.text
    return named.group(1)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("host_name", ["http", "adapters-default-http"])
async def test_sessions_a_host_opens_are_spread_over_the_pool(
    pool: Pool, pool_hosts: Hosts, host_name: str
) -> None:
    host = await pool_hosts.get(host_name)

    def idle() -> bool:
        return all(set(node.pages()) <= {"about:blank"} for node in pool.nodes)

    # The cells before have closed what they opened; a context may still be on its way out.
    await asyncio.to_thread(wait_until, idle, 30, "the pool's browsers show no session")
    urls = [pool.world.site.url(f"demo/index.html?spread={host_name}-{n}") for n in (1, 2)]
    sessions = [await opened(host, url) for url in urls]
    try:
        # The least-loaded browser takes each: one on each.
        assert sorted(index for url in urls for index in showing(pool.nodes, url)) == [0, 1]
    finally:
        for session_id in sessions:
            await host.call("smooth_session_close", {"session_id": session_id})


# -- what the model is told when the pool is full, down, then back ---------------------------------

TIGHT_HOSTS = ["stdio", "http", "adapters-default-http", "inspector-http", "toolkit-agent"]


@pytest.fixture(scope="module")
def tight_pool(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    """One browser with room for one session."""
    with pooled(site, tmp_path_factory.mktemp("tight"), browsers=1, capacity=1) as made:
        yield made


@pytest.fixture(scope="module")
async def tight_hosts(tight_pool: Pool) -> AsyncIterator[Hosts]:
    async with hosts_of(tight_pool.world, person=False) as hosts:
        yield hosts


@pytest.mark.timeout(300)
@pytest.mark.parametrize("host_name", TIGHT_HOSTS)
async def test_a_full_then_down_pool_is_told_to_the_model(
    tight_pool: Pool, tight_hosts: Hosts, host_name: str
) -> None:
    host = await tight_hosts.get(host_name)
    node = tight_pool.nodes[0]
    page = tight_pool.world.site.url("demo/index.html")
    first = await opened(host, page)

    full = await host.call("smooth_session_open", {"url": page})
    assert full.is_error, full.text
    assert "Every browser of the pool is full or out" in full.text, full.text
    assert f"browser 1 ({node.endpoint}) full (1/1)" in full.text, full.text
    assert "Close a session" in full.text, full.text  # what the model can do about it
    closed = await host.call("smooth_session_close", {"session_id": first})
    assert not closed.is_error, closed.text

    port = node.port
    node.kill()
    down = await host.call("smooth_session_open", {"url": page})
    assert down.is_error, down.text
    assert "No browser of the pool is up" in down.text, down.text
    assert f"browser 1 ({node.endpoint}) out" in down.text, down.text
    assert "retry" in down.text, down.text

    node.start()
    assert node.port == port  # back where the pool looks for it
    # It rejoins at a health check (every 0.5 s); until then the model is told it is down.
    for _ in range(100):
        back = await host.call("smooth_session_open", {"url": page})
        if not back.is_error:
            break
        assert "No browser of the pool is up" in back.text, back.text
        await asyncio.sleep(0.2)
    assert not back.is_error, back.text
    named = re.search(r"Session (\S+) is open", back.text)
    assert named, back.text
    assert page in node.pages()
    await host.call("smooth_session_close", {"session_id": named.group(1)})
