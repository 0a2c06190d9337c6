"""A LangChain agent (create_agent, on LangGraph) using the Smooth toolkit.

By default the model is scripted (langchain_tools.scripted.ScriptedChatModel): it opens a session
on a demo product page, extracts the product with a JSON schema, closes the session and answers,
so the example runs anywhere with no provider and no Smooth key (the embedded local server and a
real Chromium do the browsing). Set SMOOTH_EXAMPLE_MODEL to a provider model, for example
"openai:gpt-4o-mini" (with langchain-openai installed and OPENAI_API_KEY set), to let a real
model choose the tool calls instead.

    python examples/langgraph_agent.py
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

import smooth_agents
from langchain_tools import SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel

DEMO_SITE = Path(smooth_agents.__file__).parent / "local" / "demo_site"
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}


def tool_call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}]
    )


def answers(messages: Sequence[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def scripted_model(page: str) -> BaseChatModel:
    return ScriptedChatModel(
        steps=[
            lambda _: tool_call("smooth_session_open", {"url": page}),
            lambda m: tool_call(
                "smooth_session_extract",
                {"session_id": answers(m)[0].artifact["session_id"], "json_schema": SCHEMA},
            ),
            lambda m: tool_call("smooth_session_close", {"session_id": answers(m)[0].artifact["session_id"]}),
            lambda m: AIMessage(content=json.dumps(answers(m)[1].artifact["data"])),
        ]
    )


def pick_model(page: str) -> BaseChatModel:
    configured = os.environ.get("SMOOTH_EXAMPLE_MODEL")
    if not configured:
        return scripted_model(page)
    from langchain.chat_models import init_chat_model

    return init_chat_model(configured)


def main() -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(DEMO_SITE))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined, method-assign]
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        page = f"http://127.0.0.1:{site.server_address[1]}/product.html"
        with SmoothToolkit() as toolkit:
            agent = create_agent(
                pick_model(page),
                toolkit.get_tools(),
                system_prompt="Use the Smooth tools to read web pages. Close sessions you open.",
            )
            result = agent.invoke({"messages": [("user", f"What is the product on {page} and its price?")]})
        site.shutdown()
    print(result["messages"][-1].content)


if __name__ == "__main__":
    main()
