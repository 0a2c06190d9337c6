"""Fixtures of the core client tests: a client against the local server over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smooth_agents import AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY


@pytest.fixture
async def client(local_server: ThreadedServer) -> AsyncIterator[AsyncSmoothClient]:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as smooth:
        yield smooth
