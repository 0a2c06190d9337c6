"""Shared fixtures: a static test site and the local Smooth server, both on loopback HTTP.

Everything is real: uvicorn serving on 127.0.0.1, Playwright driving Chromium.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx2
import pytest

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings

# The official SDK reports telemetry to the server it talks to unless told not to.
os.environ.setdefault("SMOOTH_TELEMETRY", "off")


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        yield server


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with ThreadedServer(make_settings(tmp_path_factory.mktemp("smooth-data"))) as server:
        yield server


@pytest.fixture
def api(local_server: ThreadedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=local_server.api_url, headers={"apikey": API_KEY}, timeout=30) as client:
        yield client
