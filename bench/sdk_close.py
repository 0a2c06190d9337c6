"""The official SDK's graceful close against the local server: how often it fails.

smooth-py drops the events of the GET it sends as each action connects; a close that finishes
before that GET is then read as ended, and the SDK's close() raises CancelledError. Each round
opens a session, loads a page, evaluates a script and closes gracefully; the figure is the number
of closes that failed (0 expected; answers slowed by Nagle's algorithm once made it 4-6 in 15).

    .venv/bin/python bench/sdk_close.py --rounds 15
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
from smooth import SmoothAsyncClient

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings


async def rounds(count: int) -> None:
    with (
        SiteServer() as site,
        ThreadedServer(make_settings(Path(tempfile.mkdtemp()))) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}) as api,
    ):
        failed = 0
        for number in range(count):
            async with SmoothAsyncClient(api_key=API_KEY, base_url=server.base_url) as client:
                session = await client.session()
                await session.goto(site.url("demo/product.html"))
                await session.evaluate_js("document.title")
                try:
                    await session.close(force=False)
                except asyncio.CancelledError:
                    failed += 1
                    status = api.get(f"/task/{session.id()}").json()["r"]["status"]
                    print(f"round {number}: close raised CancelledError (session {status})")
        print(f"graceful closes failed: {failed} of {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's session_id deprecation
    asyncio.run(rounds(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
