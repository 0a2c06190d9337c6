"""A context asked for by a caller cancelled meanwhile (local/browser/opening.py): Chromium makes it
anyway, and it is closed once made rather than held by nobody until shutdown."""

from __future__ import annotations

import asyncio

from smooth_agents.cancellation import cancel_and_wait
from smooth_agents.local.browser.chromium import BrowserProvider


async def test_a_context_whose_opener_was_cancelled_is_closed_once_made() -> None:
    provider = BrowserProvider(spare=False)
    try:
        browser = await provider.browser()
        chromium = await browser.new_browser_cdp_session()  # what Chromium holds, not our lists

        async def contexts() -> int:
            return len((await chromium.send("Target.getBrowserContexts"))["browserContextIds"])

        assert await contexts() == 0
        for _ in range(5):  # the cancel lands before, while or after the driver makes it
            opening = asyncio.create_task(provider.new_context())
            await asyncio.sleep(0)  # the request is on its way to the driver
            await cancel_and_wait(opening)
            if not opening.cancelled():  # made before the cancel came: the caller's to close
                await opening.result().close()
        async with asyncio.timeout(20):
            while await contexts():
                await asyncio.sleep(0.02)
    finally:
        await provider.aclose()
