"""Custom tools: the remote agent calls a function of yours, which runs here, exactly once.

The embedded local server has no model, so this example gives it a scripted agent (a task text
starting with "script:" runs a JSON list of steps) that reads a price from the demo product
page and asks your `convert_currency` tool to convert it. With SMOOTH_API_KEY set, write the
task in plain language instead and Smooth's agent decides when to call the tool.

    python examples/custom_tool.py
"""

from __future__ import annotations

import asyncio
import json

from smooth_agents import AsyncSmoothClient, tool
from smooth_agents.local import EmbeddedServer, LocalServerSettings

RATES = {"EUR": 0.92, "GBP": 0.79, "JPY": 151.3}


@tool(essential=False)
def convert_currency(amount: float, to: str) -> dict[str, object]:
    """Convert an amount in US dollars to another currency.

    Args:
        amount: The amount in USD.
        to: ISO code of the target currency (EUR, GBP or JPY).
    """
    if to not in RATES:
        raise ValueError(f"no rate for {to}")
    return {"amount": round(amount * RATES[to], 2), "currency": to}


async def main() -> None:
    # A local server that accepts scripted tasks; the client talks to it in process.
    settings = LocalServerSettings(enable_scripted_agent=True)
    async with EmbeddedServer(settings) as server:
        client = AsyncSmoothClient(
            api_key=server.api_key, base_url=server.base_url, transport=server.transport
        )
        async with client:
            page = f"{server.settings.public_url}/demo/product.html"
            steps = [
                {"action": "goto", "url": page},
                {
                    "action": "evaluate_js",
                    "js": "Number(document.querySelector('[itemprop=price]').getAttribute('content'))",
                },
                {"action": "tool", "name": "convert_currency", "input": {"amount": "$last", "to": "EUR"}},
                {"action": "return", "from": "last"},
            ]
            handle = await client.run("script:" + json.dumps(steps), custom_tools=[convert_currency])
            result = await handle.result(timeout=60)
            print(json.dumps(result.output))


if __name__ == "__main__":
    asyncio.run(main())
