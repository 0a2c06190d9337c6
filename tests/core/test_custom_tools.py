"""Custom tools: built from functions, run exactly once per call, errors answered by code."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import ValidationError

from smooth_agents import AsyncSmoothClient, TaskFailedError, ToolError, tool


def script(*steps: dict[str, Any]) -> str:
    return "script:" + json.dumps(list(steps))


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"action": "tool", "name": name, "input": arguments}


def test_schema_name_and_description_come_from_the_function() -> None:
    def shipping_quote(country: str, weight_kg: float = 1.0, express: bool = False) -> str:
        """Quote the shipping cost of a parcel.

        Args:
            country: ISO country code of the destination.
            weight_kg: Parcel weight in kilograms.
            express: Next-day delivery.

        Returns:
            A price in euros.
        """
        return "x"

    built = tool(shipping_quote)
    assert built.name == "shipping_quote"
    assert built.description == "Quote the shipping cost of a parcel."
    schema = built.input_schema
    assert schema["required"] == ["country"]
    assert schema["properties"]["country"] == {
        "type": "string",
        "title": "Country",
        "description": "ISO country code of the destination.",
    }
    assert schema["properties"]["weight_kg"]["type"] == "number"
    assert schema["properties"]["weight_kg"]["default"] == 1.0
    assert built.signature()["inputs"] == schema
    assert built.essential is True


def test_explicit_definition_wins() -> None:
    @tool(name="lookup", description="Find a customer", input_schema={"type": "object"}, essential=False)
    def find(**kwargs: Any) -> Any:
        return kwargs

    assert (find.name, find.description, find.input_schema, find.essential) == (
        "lookup",
        "Find a customer",
        {"type": "object"},
        False,
    )


def test_the_docstring_describes_the_tool_and_each_argument() -> None:
    def act(a: int, b: str = "") -> None:
        """Do it.

        More words.

        Args:
            a (int): first
                continued
            b: second
        Raises:
            ValueError: never
        """

    built = tool(act)
    assert built.description == "Do it.\n\nMore words."
    assert built.input_schema["properties"]["a"]["description"] == "first\ncontinued"
    assert built.input_schema["properties"]["b"]["description"] == "second"
    # Arguments the function does not take are refused, not silently dropped.
    assert built.input_schema["additionalProperties"] is False


def test_numpy_style_docstrings_are_read_too() -> None:
    def act(count: int) -> None:
        """Count things.

        Parameters
        ----------
        count : int
            How many.
        """

    assert tool(act).input_schema["properties"]["count"]["description"] == "How many."


async def test_invalid_input_and_the_functions_own_validation_errors_are_told_apart() -> None:
    from pydantic import BaseModel

    class Order(BaseModel):
        quantity: int

    def place(quantity: int) -> int:
        """Place an order."""
        return Order(quantity=quantity * 0 or "none").quantity  # type: ignore[arg-type]

    built = tool(place)
    with pytest.raises(ToolError, match="invalid input for place: quantity: Input should be a valid int"):
        await built.invoke({"quantity": "many"})
    with pytest.raises(ToolError, match="invalid input for place: extra: Unexpected keyword argument"):
        await built.invoke({"quantity": 1, "extra": True})
    with pytest.raises(ValidationError) as raised:  # the function's own failure, not bad input
        await built.invoke({"quantity": 1})
    assert raised.value.title == "Order"


async def test_sync_and_async_tools_each_run_exactly_once(client: AsyncSmoothClient) -> None:
    runs: list[str] = []

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        runs.append("add")
        return a + b

    async def shout(text: str) -> str:
        """Upper-case a text."""
        await asyncio.sleep(0.01)
        runs.append("shout")
        return text.upper()

    steps = script(call("add", a=2, b=3), call("shout", text="hey"), {"action": "return", "from": "all"})
    result = await (await client.run(steps, custom_tools=[add, shout])).result(timeout=30)
    assert result.output == [5, "HEY"]
    assert runs == ["add", "shout"]


async def test_tool_error_is_code_400_and_the_agent_goes_on(client: AsyncSmoothClient) -> None:
    def lookup(customer: str) -> str:
        """Find a customer."""
        raise ToolError(f"no customer named {customer}")

    steps = script(
        {**call("lookup", customer="zed"), "on_error": "continue"}, {"action": "return", "from": "all"}
    )
    result = await (await client.run(steps, custom_tools=[lookup])).result(timeout=30)
    assert "no customer named zed" in result.output[0]["error"]


async def test_invalid_input_is_answered_without_running_the_tool(client: AsyncSmoothClient) -> None:
    runs: list[int] = []

    def square(n: int) -> int:
        """Square a number."""
        runs.append(n)
        return n * n

    steps = script({**call("square", n="many"), "on_error": "continue"}, {"action": "return", "from": "all"})
    result = await (await client.run(steps, custom_tools=[square])).result(timeout=30)
    assert "invalid input" in result.output[0]["error"]
    assert runs == []


async def test_non_essential_failure_is_code_400(client: AsyncSmoothClient) -> None:
    @tool(essential=False)
    def flaky() -> str:
        """Sometimes fails."""
        raise RuntimeError("disk full")

    steps = script({**call("flaky"), "on_error": "continue"}, {"action": "return", "from": "all"})
    result = await (await client.run(steps, custom_tools=[flaky])).result(timeout=30)
    assert "disk full" in result.output[0]["error"]


async def test_essential_tool_failure_ends_the_task(client: AsyncSmoothClient) -> None:
    def charge(amount: float) -> str:
        """Charge the card."""
        raise RuntimeError("payment gateway down")

    steps = script(
        {**call("charge", amount=9.5), "on_error": "continue"}, {"action": "return", "output": "went on"}
    )
    handle = await client.run(steps, custom_tools=[charge])
    with pytest.raises(TaskFailedError, match="payment gateway down") as failure:
        await handle.result(timeout=30)
    assert isinstance(failure.value.__cause__, RuntimeError)


async def test_tools_in_a_session_run_task(client: AsyncSmoothClient) -> None:
    seen: list[str] = []

    def note(text: str) -> str:
        """Write a note."""
        seen.append(text)
        return "noted"

    async with client.session(custom_tools=[note]) as session:
        result = await session.run_task(
            script(call("note", text="from the session"), {"action": "return", "from": "last"})
        )
    assert result.output == "noted"
    assert seen == ["from the session"]
