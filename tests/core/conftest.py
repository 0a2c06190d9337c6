"""Fixtures of the core client tests: a client against the local server over loopback HTTP, and
one whose server and transport fail on demand (tests/faults.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from smooth_agents import AsyncSmoothClient, PollSettings
from smooth_agents.local import ThreadedServer, create_app
from tests.faults import FaultInjector, ResettingTransport
from tests.helpers import API_KEY, AppServer, make_settings


@pytest.fixture
async def client(local_server: ThreadedServer) -> AsyncIterator[AsyncSmoothClient]:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
        yield smooth


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultInjector, AppServer]]:
    """The local server behind a fault injector, on a loopback port of its own."""
    injector = FaultInjector(create_app(make_settings(Path(tmp_path_factory.mktemp("faulty")))))
    with AppServer(injector) as server:
        yield injector, server


@pytest.fixture
def injector(faulty: tuple[FaultInjector, AppServer]) -> Iterator[FaultInjector]:
    faulty[0].clear()
    yield faulty[0]
    faulty[0].clear()


@pytest.fixture
def transport() -> ResettingTransport:
    return ResettingTransport()


@pytest.fixture(params=[True, False], ids=["long-poll", "timer-poll"])
async def faulty_client(
    request: pytest.FixtureRequest, faulty: tuple[FaultInjector, AppServer], transport: ResettingTransport
) -> AsyncIterator[AsyncSmoothClient]:
    poll = PollSettings(long_poll=request.param, max_delay=0.2, give_up_after=1.0, max_failure_backoff=0.1)
    async with AsyncSmoothClient(
        api_key=API_KEY, base_url=faulty[1].base_url, transport=transport, poll=poll, timeout=5
    ) as smooth:
        # Retry quickly: these tests are about what is retried, not how long we wait.
        assert smooth._http is not None
        smooth._http.retry = type(smooth._http.retry)(max_retries=3, base_delay=0.01, max_delay=0.05)
        yield smooth
