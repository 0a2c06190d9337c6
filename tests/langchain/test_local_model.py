"""A chat model handed in Python reaches the embedded local server's browser agent: through the
async and the sync client (``local_model=``) and through the LangChain toolkit."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_tools import SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel
from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.local import EmbeddedServer
from tests.helpers import SiteServer


@pytest.fixture(autouse=True)
def no_smooth_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY", "SMOOTH_BASE_URL", "SMOOTH_LOCAL_MODEL"):
        monkeypatch.delenv(variable, raising=False)


def title_reader() -> ScriptedChatModel:
    """Looks at the page, then answers with the first heading it saw."""

    def answer(messages: Sequence[BaseMessage]) -> AIMessage:
        state = next(str(m.content) for m in reversed(messages) if isinstance(m, ToolMessage))
        heading = next(line for line in state.splitlines() if line.lstrip().startswith("# "))
        return AIMessage(
            "",
            tool_calls=[{"name": "finish", "args": {"answer_json": heading.strip("# ")}, "id": "finish-1"}],
        )

    def look(_messages: Sequence[BaseMessage]) -> AIMessage:
        return AIMessage("", tool_calls=[{"name": "page_state", "args": {}, "id": "look-1"}])

    return ScriptedChatModel(steps=[look, answer])


async def test_the_async_client_hands_its_local_model_to_the_embedded_server(site: SiteServer) -> None:
    model = title_reader()
    async with AsyncSmoothClient(local_model=model) as client:
        handle = await client.run("What does the first heading say?", url=site.url("shop/index.html"))
        result = await handle.result(timeout=60)
    assert result.output == "Find a part"
    assert len(model.seen) == 2  # the model did the task, not the reader


def test_the_sync_client_takes_the_same_local_model(site: SiteServer) -> None:
    model = title_reader()
    with SmoothClient(local_model=model) as client:
        handle = client.run("What does the first heading say?", url=site.url("shop/index.html"))
        result = handle.result(timeout=60)
    assert result.output == "Find a part"


def test_the_toolkit_gives_its_local_model_to_the_client_it_makes(site: SiteServer) -> None:
    model = title_reader()
    with SmoothToolkit(local_model=model) as toolkit:
        browse = next(t for t in toolkit.get_tools() if t.name == "smooth_browse")
        text = browse.invoke({"task": "What does the first heading say?", "url": site.url("shop/index.html")})
    assert "Find a part" in str(text)
    assert len(model.seen) == 2
    assert "ScriptedChatModel" not in repr(toolkit)  # the model (and any key inside it) stays out


async def test_the_embedded_server_takes_a_model_without_touching_the_settings_given() -> None:
    from smooth_agents.local import LocalServerSettings

    settings = LocalServerSettings(model=None)
    model = title_reader()
    server = EmbeddedServer(settings, model=model, live_view=False)
    assert server.settings.model is model
    assert settings.model is None


def test_a_local_model_with_a_smooth_key_is_refused() -> None:
    with pytest.raises(ValueError, match="local_model drives the embedded local server"):
        AsyncSmoothClient(api_key="sk-cloud-0123456789", local_model=title_reader())
    with pytest.raises(ValueError, match="local_model drives the embedded local server"):
        SmoothClient(api_key="sk-cloud-0123456789", local_model="openai:gpt-4o-mini")
