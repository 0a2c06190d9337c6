"""Extraction with a model configured: the deterministic extraction first; the required properties
it leaves empty are read by the model from the page's main content (real local server, Chromium,
a scripted chat model that reads the page text it is sent)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import ActionError, AsyncSmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings

LAMP = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "number"},
        "warranty_years": {"type": "integer"},
    },
    "required": ["name", "price", "warranty_years"],
}
WORDS = {"one": 1, "two": 2, "three": 3, "five": 5}


def reads_the_warranty(messages: Sequence[BaseMessage]) -> AIMessage:
    """Finds the warranty in the page text it was sent; also offers a name of its own, which must
    not replace the one the rules found."""
    text = next(str(m.content) for m in messages if isinstance(m, HumanMessage))
    years = re.search(r"for (\w+) years", text)
    assert years, text
    values = {"warranty_years": WORDS[years.group(1)], "name": "Some other lamp"}
    return AIMessage("", tool_calls=[{"name": "record_values", "args": values, "id": "fill-1"}])


def answers_with_the_wrong_shape(_messages: Sequence[BaseMessage]) -> AIMessage:
    values = {"warranty_years": "three years"}
    return AIMessage("", tool_calls=[{"name": "record_values", "args": values, "id": "fill-1"}])


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    with ThreadedServer(make_settings(tmp_path, model=request.param)) as server:
        yield server


async def extract(served: ThreadedServer, url: str, schema: dict[str, object]) -> object:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=served.base_url) as client:
        async with client.session() as session:
            await session.goto(url)
            return (await session.extract(schema)).output


FILLS = ScriptedChatModel(steps=[reads_the_warranty])


@pytest.mark.parametrize("served", [FILLS], indirect=True)
async def test_the_model_fills_what_the_rules_left_empty_and_only_that(
    served: ThreadedServer, site: SiteServer
) -> None:
    data = await extract(served, site.url("extract/lamp.html"), LAMP)
    assert data == {"name": "Arc floor lamp", "price": 149.0, "warranty_years": 3}
    assert len(FILLS.seen) == 1
    asked = next(str(m.content) for m in FILLS.seen[0] if isinstance(m, HumanMessage))
    assert "warranty_years" in asked
    assert "marble foot" in asked  # it was shown the page's main content


WRONG_SHAPE = ScriptedChatModel(steps=[answers_with_the_wrong_shape])


@pytest.mark.parametrize("served", [WRONG_SHAPE], indirect=True)
async def test_a_value_of_the_wrong_shape_is_no_value_and_the_extraction_says_so(
    served: ThreadedServer, site: SiteServer
) -> None:
    with pytest.raises(ActionError) as refused:
        await extract(served, site.url("extract/lamp.html"), LAMP)
    message = str(refused.value)
    assert "required property 'warranty_years'" in message  # what the rules looked for
    assert "The model did not find ['warranty_years'] on the page either" in message
    assert len(WRONG_SHAPE.seen) == 1


UNUSED = ScriptedChatModel(steps=[reads_the_warranty])


@pytest.mark.parametrize("served", [UNUSED], indirect=True)
async def test_the_model_is_not_asked_when_the_rules_found_everything(
    served: ThreadedServer, site: SiteServer
) -> None:
    schema = {**LAMP, "required": ["name", "price"]}
    data = await extract(served, site.url("extract/lamp.html"), schema)
    assert isinstance(data, dict)
    assert (data["name"], data["price"]) == ("Arc floor lamp", 149.0)
    assert UNUSED.seen == []
