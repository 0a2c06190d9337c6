"""The local server's model agent: any LangChain chat model drives the task's browser.

Plugged into the self-hosted server's agent seam through the ``smooth_agents.model_agents``
entry point (the core imports no LangChain). The loop is LangChain's own (``create_agent``) over
the tools of ``browser_tools`` (the browser, the additional tools the task enabled, the caller's
custom tools and ``finish``); the model is one chat model for every task, or the MCP host's own
for each task (``HostModels``). The step limit ends the task; a provider's failure fails it with
its message, anything shaped like a key redacted; the tokens used are an event of the task.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from pydantic import ValidationError

from smooth_agents.host_models import HOST_MODEL, HostModels
from smooth_agents.json_schemas import json_schema_mismatch
from smooth_agents.local.agents.seam import AgentContext, AgentError
from smooth_agents.local.errors import ActionFailed

from .agent_budget import TokenBudget
from .agent_context import bounded_context
from .agent_mistakes import AnswerMistakes
from .browser_tools import browser_tools, sees_images
from .host_model import SampledChatModel

SYSTEM = (
    "You operate a web browser to do the user's task. page_state shows the page: each "
    "interactive element has a ref (e7). Act on elements by those refs (click, type_text, "
    "select_option, hover); each action answers with the page as it is after it, with new refs: "
    "use refs only from the latest page state. read_page gives a long page's text, extract pulls "
    "data shaped by a JSON schema. When the task is done, call finish with the answer{schema_hint}. "
    "Do not invent data that is not on the pages you saw."
)
FILL_SYSTEM = (
    "You read values off a web page's text. Give only values the text states; leave out any it does "
    "not give. Never guess."
)
NO_ANSWER = "The model stopped without calling finish"


def chat_model(model: Any) -> BaseChatModel:
    """A chat model object as given, or one made from ``provider:model`` (``init_chat_model``),
    with a message naming the package to install when the provider's is missing."""
    if isinstance(model, BaseChatModel):
        return model
    if model == HOST_MODEL:
        raise ValueError(
            "The local model 'host' is the MCP client's own model: it exists only behind "
            "smooth-mcp --local-model host. Elsewhere give provider:model or a chat model object."
        )
    if not isinstance(model, str) or ":" not in model:
        raise ValueError(
            f"A local model is 'provider:model' (openai:gpt-4o-mini, ollama:llama3.1, ...) or a "
            f"LangChain chat model object, not {model!r}."
        )
    from langchain.chat_models import init_chat_model

    provider = model.split(":", 1)[0]
    try:
        made: BaseChatModel = init_chat_model(model)
    except ImportError as exc:
        raise ValueError(
            f"The model {model!r} needs its LangChain provider package: pip install "
            f"langchain-{provider.replace('_', '-')} ({exc})"
        ) from None
    except Exception as exc:  # an unknown provider, missing credentials: a setting to fix
        raise ValueError(_unusable(model, provider, exc)) from None
    return made


def _unusable(model: str, provider: str, exc: Exception) -> str:
    """Why ``provider:model`` cannot be made, in one line naming what to change."""
    if isinstance(exc, ValidationError):
        reason = "; ".join(str(error["msg"]) for error in exc.errors())
    else:
        reason = str(exc)
    known = re.search(r"Supported providers: ([^\n]+)", reason)
    if known is not None:  # LangChain's own advice names its API, not this setting
        return (
            f"The model {model!r} names a provider LangChain does not know ({provider!r}); "
            f"known providers: {known.group(1).strip()}."
        )
    return f"The model {model!r} cannot be used: {' '.join(reason.split())}"


# Anything shaped like a credential (provider errors quote parts of keys): a run of 16 or more
# key characters, with the separators keys use.
_CREDENTIAL = re.compile(r"[A-Za-z0-9_\-*]{16,}")


def redacted(message: str) -> str:
    return _CREDENTIAL.sub("[redacted]", message)[:500]


class ModelAgent:
    """A task done by a chat model through LangChain's agent runtime (``Agent`` of the seam).

    The model is one chat model for every task, or, given ``HostModels``, the model of whoever
    started each task (an MCP host's, through sampling), found by the task's metadata."""

    def __init__(self, model: Any) -> None:
        self._host_models = model if isinstance(model, HostModels) else None
        self.model = None if self._host_models is not None else chat_model(model)

    def model_for(self, metadata: Mapping[str, Any]) -> BaseChatModel:
        """The model for a task (with ``HostModels``, the one its metadata names)."""
        if self._host_models is None:
            assert self.model is not None
            return self.model
        try:
            return SampledChatModel(sampler=self._host_models.for_task(metadata))
        except LookupError as exc:
            raise AgentError(str(exc)) from None

    async def fill_missing(
        self,
        schema: Mapping[str, Any],
        missing: Sequence[str],
        page_text: str,
        *,
        prompt: str | None,
        metadata: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The values of ``missing`` properties, read by the model from the page's main content
        through one tool call shaped by their schemas; each value checked against its schema."""
        properties: Mapping[str, Any] = schema.get("properties") or {}
        wanted = {
            "type": "object",
            "properties": {name: properties.get(name) or {} for name in missing},
            "required": list(missing),
        }
        record = {
            "type": "function",
            "function": {
                "name": "record_values",
                "description": "Record the values the page gives; leave out any it does not give.",
                "parameters": wanted,
            },
        }
        ask = f"The page's main content:\n\n{page_text}\n\nRecord the values of: {', '.join(missing)}."
        if prompt:
            ask += f" What is wanted: {prompt}"
        model = self.model_for(metadata).bind_tools([record])
        reply = await model.ainvoke([SystemMessage(FILL_SYSTEM), HumanMessage(ask)])
        calls = reply.tool_calls if isinstance(reply, AIMessage) else []
        given = calls[0]["args"] if calls else {}
        kept: dict[str, Any] = {}
        for name in missing:
            value = given.get(name)
            if value in (None, "", [], {}):
                continue
            # Checked against its property within the whole schema, whose references it may use.
            if json_schema_mismatch(value, properties.get(name) or {}, root=schema) is not None:
                continue  # a value of the wrong shape is no value
            kept[name] = value
        return kept

    def middleware(self, context: AgentContext) -> list[AgentMiddleware[Any, Any, Any]]:
        """What shapes the loop: the bounded context the model reads, a model's slips answered,
        and the task's token budget."""
        shaping: list[AgentMiddleware[Any, Any, Any]] = [bounded_context(), AnswerMistakes(context)]
        if context.token_budget is not None:
            shaping.append(TokenBudget(context.token_budget))
        return shaping

    async def run(self, context: AgentContext) -> Any:
        answer: dict[str, Any] = {}
        model = self.model_for(context.metadata)
        tools = browser_tools(context, answer, images=sees_images(model))
        hint = ", a JSON object matching the schema in finish's description" if context.response_model else ""
        agent = create_agent(
            model, tools, system_prompt=SYSTEM.format(schema_hint=hint), middleware=self.middleware(context)
        )
        opening = context.task
        if context.url:  # the task's starting page, open before the model's first look
            try:
                await context.goto(context.url)
            except ActionFailed as exc:
                raise AgentError(str(exc)) from None
        if context.browser.url not in ("", "about:blank"):
            # The page the model starts on (the task's url, or where the session is), so its first
            # turn can act.
            try:
                opening += "\n\nThe browser shows:\n" + (await context.page_state()).as_text()
            except ActionFailed as exc:
                opening += f"\n\n(The page could not be read: {exc})"
        # Each model turn and each tool call is one graph step: twice the steps, and the opening.
        limit = 2 * context.max_steps + 3
        usage = UsageMetadataCallbackHandler()
        try:
            state = await agent.ainvoke(
                {"messages": [HumanMessage(opening)]},
                RunnableConfig(recursion_limit=limit, callbacks=[usage]),
            )
        except GraphRecursionError:
            raise AgentError(
                f"The task used all {context.max_steps} steps (max_steps) before finishing."
            ) from None
        except AgentError:
            raise
        except Exception as exc:  # the provider's (auth, quota, network): said, any key hidden
            raise AgentError(f"The model failed: {type(exc).__name__}: {redacted(str(exc))}") from None
        finally:  # whichever way the task ended, what the model used is told
            context.report_usage(usage.usage_metadata)
        if "value" in answer:
            return answer["value"]
        last = state["messages"][-1] if state.get("messages") else None
        text = last.text if isinstance(last, AIMessage) else ""
        if context.response_model is None and text:
            return text
        raise AgentError(f"{NO_ANSWER} ({text[:200]!r})." if text else f"{NO_ANSWER}.")


def model_agent(model: Any) -> ModelAgent:
    """The entry point the local server calls when a model is configured."""
    return ModelAgent(model)


__all__: Sequence[str] = ["ModelAgent", "chat_model", "model_agent"]
