"""Fixtures shared by the local server's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from smooth_agents.local.browser.chromium import BrowserProvider


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """A blank page of a real Chromium of its own, closed after the test."""
    provider = BrowserProvider()
    try:
        context = await provider.new_context()
        yield await context.new_page()
    finally:
        await provider.aclose()
