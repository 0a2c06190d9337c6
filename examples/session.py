"""A browser session step by step: go to a page, run JavaScript, extract data with a schema.

Runs as is with no API key (the embedded local server and a real headless Chromium, reading
the demo pages that server also serves); with SMOOTH_API_KEY set, the same code drives Smooth.

    python examples/session.py [URL]
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import BaseModel

from smooth_agents import AsyncSmoothClient


class Product(BaseModel):
    name: str
    price: float
    currency: str | None = None
    rating: float | None = None


async def main(url: str | None) -> None:
    async with AsyncSmoothClient() as client:
        async with client.session() as session:
            if url is None:
                # The embedded server also serves the project's demo site on its live-view port.
                assert session.live_url is not None
                url = session.live_url.split("/live/")[0] + "/demo/product.html"
            print(f"watch the browser at {session.live_url}", file=sys.stderr)
            await session.goto(url)
            title = await session.evaluate_js("document.title")
            print(f"title: {title.output}", file=sys.stderr)
            product = await session.extract(Product, prompt="the product on this page")
            print(product.output.model_dump_json(indent=2))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
