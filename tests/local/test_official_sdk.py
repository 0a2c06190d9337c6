"""The official Smooth Python SDK (smooth-py), a client none of us wrote, against the local server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from smooth import SmoothAsyncClient

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer

# smooth-py 0.4.5 serialises its own deprecated ``session_id`` field on every task it submits.
pytestmark = pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")


class Product(BaseModel):
    name: str
    price: float


async def test_sdk_session_goto_evaluate_extract_close(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        # Not the context manager: its exit force-closes (DELETE), which answers 404 on a
        # session already closed by the graceful close below, as the document says.
        session = await client.session()
        await session.goto(site.url("demo/product.html"))
        title = await session.evaluate_js("document.title")
        assert title.output == "Nimbus 14 Pro Laptop | Demo Store"
        with_args = await session.evaluate_js("(args) => args.a + args.b", {"a": 2, "b": 3})
        assert with_args.output == 5
        extracted = await session.extract(Product.model_json_schema(), prompt="the product")
        product = Product.model_validate(extracted.output)
        assert product.name.startswith("Nimbus 14 Pro")
        assert product.price == 1299.0
        assert await session.close(force=False) is True


async def test_sdk_session_context_manager_force_closes(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        async with client.session() as session:
            await session.goto(site.url("demo/table.html"))
            task_id = session.id()
        task = await client._get_task(task_id)
        assert task.status == "cancelled"


async def test_sdk_javascript_error_raises(local_server: ThreadedServer) -> None:
    from smooth._exceptions import ToolCallError

    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        async with client.session() as session:
            with pytest.raises(ToolCallError, match="nope"):
                await session.evaluate_js("throw new Error('nope')")


async def test_sdk_one_shot_task_with_url_and_response_model(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        handle = await client.run(
            task="Get the product name and price",
            url=site.url("demo/product.html"),
            response_model=Product,
        )
        result = await handle.result(timeout=60)
        assert result.status == "done", result.output
        product = Product.model_validate(result.output)
        assert product.name.startswith("Nimbus 14 Pro")


async def test_sdk_custom_tool_round_trip(local_server: ThreadedServer, site: SiteServer) -> None:
    calls: list[dict[str, Any]] = []
    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:

        @client.tool(
            name="shipping_quote",
            description="Shipping cost to a country",
            inputs={"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]},
            output="a price in euros",
        )
        async def shipping_quote(country: str) -> str:
            calls.append({"country": country})
            return f"12.50 EUR to {country}"

        steps = (
            'script:[{"action": "goto", "url": "' + site.url("demo/product.html") + '"},'
            '{"action": "tool", "name": "shipping_quote", "input": {"country": "PT"}},'
            '{"action": "return", "from": "last"}]'
        )
        handle = await client.run(task=steps, custom_tools=[shipping_quote])
        result = await handle.result(timeout=60)
    assert calls == [{"country": "PT"}]
    assert result.status == "done", result.output
    assert result.output == "12.50 EUR to PT"


async def test_sdk_profiles_and_files(local_server: ThreadedServer, tmp_path: Any) -> None:
    import io

    async with SmoothAsyncClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        created = await client.create_profile("sdk-profile")
        assert created.id == "sdk-profile"
        listed = await client.list_profiles()
        assert "sdk-profile" in [p.id for p in listed]
        await client.delete_profile("sdk-profile")
        uploaded = await client.upload_file(io.BytesIO(b"data"), name="d.txt", purpose="test")
        assert uploaded.id.startswith("file_")
        await client.delete_file(uploaded.id)
