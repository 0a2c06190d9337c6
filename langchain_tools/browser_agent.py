"""The local server's model agent: any LangChain chat model drives the task's browser.

Plugged into the self-hosted server's agent seam through the ``smooth_agents.model_agents``
entry point (the core imports no LangChain). The loop is LangChain's own (``create_agent``); this
module gives it the browser as tools: ``page_state`` (an outline whose elements carry refs),
``click``, ``type_text``, ``select_option``, ``press_key``, ``scroll``, ``go_back``, ``goto``,
``wait_for_text``, ``extract`` (schema-guided, no model), ``read_page``, the additional tools the
task enabled (``screenshot``, ``print_page``, ``drag_drop``), the caller's custom tools, and
``finish`` with the answer (checked against the task's ``response_model`` when it has one). An action
that fails (a stale ref, a blocked address) is answered to the model, which may look again; the
step limit ends the task.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import jsonschema
from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.errors import GraphRecursionError

from smooth_agents.host_models import HOST_MODEL, HostModels
from smooth_agents.local.agents import AgentContext, AgentError, ToolCallError
from smooth_agents.local.errors import ActionFailed

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
# Characters of a script's value shown to the model.
EVALUATE_BUDGET = 4_000
Action = Callable[..., Awaitable[str]]


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

    try:
        made: BaseChatModel = init_chat_model(model)
    except ImportError as exc:
        provider = model.split(":", 1)[0]
        raise ValueError(
            f"The model {model!r} needs its LangChain provider package: pip install "
            f"langchain-{provider.replace('_', '-')} ({exc})"
        ) from None
    return made


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
            try:
                jsonschema.validate(value, properties.get(name) or {})
            except jsonschema.ValidationError:
                continue  # a value of the wrong shape is no value
            kept[name] = value
        return kept

    async def run(self, context: AgentContext) -> Any:
        answer: dict[str, Any] = {}
        model = self.model_for(context.metadata)
        tools = browser_tools(context, answer, images=sees_images(model))
        hint = ", a JSON object matching the schema in finish's description" if context.response_model else ""
        agent = create_agent(model, tools, system_prompt=SYSTEM.format(schema_hint=hint))
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
        try:
            state = await agent.ainvoke(
                {"messages": [HumanMessage(opening)]}, RunnableConfig(recursion_limit=limit)
            )
        except GraphRecursionError:
            raise AgentError(
                f"The task used all {context.max_steps} steps (max_steps) before finishing."
            ) from None
        except AgentError:
            raise
        except Exception as exc:  # the provider's (auth, quota, network): said, any key hidden
            raise AgentError(f"The model failed: {type(exc).__name__}: {redacted(str(exc))}") from None
        if "value" in answer:
            return answer["value"]
        last = state["messages"][-1] if state.get("messages") else None
        text = last.text if isinstance(last, AIMessage) else ""
        if context.response_model is None and text:
            return text
        raise AgentError(f"{NO_ANSWER} ({text[:200]!r})." if text else f"{NO_ANSWER}.")


def sees_images(model: BaseChatModel) -> bool:
    """True when the model's LangChain profile says it reads images in tool messages."""
    return bool((model.profile or {}).get("image_tool_message"))


def browser_tools(context: AgentContext, answer: dict[str, Any], *, images: bool = False) -> list[BaseTool]:
    """The browser, the additional tools the task enabled, the caller's custom tools and
    ``finish``, as tools for the model; ``images``: the screenshot is shown to the model too."""

    def tool(
        description: str, *, counted: bool = True, shows_page: bool = False
    ) -> Callable[[Action], BaseTool]:
        """A tool from an action; its arguments are the action's parameters. A failed action is
        answered to the model; the step limit (``AgentError``) ends the task. An action that may
        change the page (``shows_page``) answers with the page state after it, so the model sees
        the result without a second call."""

        def make(run: Action) -> BaseTool:
            @functools.wraps(run)
            async def step(**arguments: Any) -> str:
                if counted:
                    context.count_step(run.__name__)
                failed = False
                # What watchers are shown of the input: text typed into a password or card
                # field is not (looked at before the action: a submit may take the field away).
                shown = dict(arguments)
                typed = shown.get("text")
                if isinstance(typed, str) and await context.elements.is_secret(str(shown.get("ref", ""))):
                    shown["text"] = f"(hidden: {len(typed)} characters)"
                try:
                    outcome = await run(**arguments)
                except (ActionFailed, ToolCallError) as exc:
                    outcome, failed = f"Failed: {exc}", True
                if run.__name__ != "page_state":  # looking is not a step worth showing
                    context.report_step(run.__name__, shown, outcome)
                if shows_page and not failed:
                    outcome += "\n\n" + await page_text()
                return outcome

            return StructuredTool.from_function(coroutine=step, name=run.__name__, description=description)

        return make

    async def page_text() -> str:
        try:
            return (await context.page_state()).as_text()
        except ActionFailed as exc:
            return f"(the page could not be read: {exc})"

    @tool("The page: URL, title and an outline whose interactive elements carry refs (e7).")
    async def page_state() -> str:
        return (await context.page_state()).as_text()

    @tool("Click the element with this ref (from the last page state).", shows_page=True)
    async def click(ref: str) -> str:
        return await context.elements.click(ref)

    @tool("Type text into a field (its ref); submit=true presses Enter after it.", shows_page=True)
    async def type_text(ref: str, text: str, submit: bool = False) -> str:
        return await context.elements.type(ref, text, submit=submit)

    @tool("Choose an option, by its label, in a select element (its ref).", shows_page=True)
    async def select_option(ref: str, option: str) -> str:
        return await context.elements.select(ref, option)

    @tool("Move the mouse over an element (its ref): opens menus and tooltips.", shows_page=True)
    async def hover(ref: str) -> str:
        return await context.elements.hover(ref)

    @tool("Press a key on the focused element: Enter, Escape, Tab, ArrowDown...", shows_page=True)
    async def press_key(key: str) -> str:
        return await context.elements.press(key)

    @tool("Scroll the page; direction is 'down' or 'up'.", shows_page=True)
    async def scroll(direction: str = "down") -> str:
        return await context.elements.scroll(down=direction != "up")

    @tool("Go back to the previous page.", shows_page=True)
    async def go_back() -> str:
        return await context.elements.back()

    @tool("Open an address (https://...).", counted=False, shows_page=True)
    async def goto(url: str) -> str:
        landed = await context.goto(url)
        return f"At {landed.get('url')} ({landed.get('title')!r}, HTTP {landed.get('status')})"

    @tool(
        "Make another tab the one the actions see (its index, listed in the page state).",
        counted=False,
        shows_page=True,
    )
    async def switch_tab(index: int) -> str:
        await context.switch_tab(index)
        return f"switched to tab {index}"

    @tool("Wait until this text appears on the page.", shows_page=True)
    async def wait_for_text(text: str) -> str:
        return await context.elements.wait_for_text(text)

    @tool("The page's main content as markdown (long articles, listings).", counted=False)
    async def read_page() -> str:
        return await context.read_page()

    @tool("Data from the page, shaped by a JSON schema given as JSON text (no model).", counted=False)
    async def extract(json_schema: str, prompt: str = "") -> str:
        try:
            schema = json.loads(json_schema)
        except json.JSONDecodeError as exc:
            raise ActionFailed(f"json_schema is not JSON: {exc}") from None
        return json.dumps(await context.extract(schema, prompt or None))

    @tool("Run JavaScript in the page (an expression or a function); its value as JSON.", counted=False)
    async def evaluate_js(js: str) -> str:
        return json.dumps(await context.evaluate_js(js))[:EVALUATE_BUDGET]

    @tool("Save the page as a PDF among the task's downloads; answers the file's name.", counted=False)
    async def print_page() -> str:
        return f"Saved {await context.print_page()} in the task's downloads."

    @tool(
        "Drag an element (source_ref) and drop it on another (target_ref), by refs of the last page state.",
        counted=False,
        shows_page=True,
    )
    async def drag_drop(source_ref: str, target_ref: str) -> str:
        return await context.drag_drop(source_ref, target_ref)

    made = [
        page_state,
        click,
        type_text,
        select_option,
        hover,
        press_key,
        scroll,
        go_back,
        goto,
        switch_tab,
        wait_for_text,
        read_page,
        extract,
        evaluate_js,
    ]
    if context.enabled("screenshot"):
        made.append(screenshot_tool(context, images))
    made.extend(t for t in (print_page, drag_drop) if context.enabled(t.name))
    made.extend(custom_tools(context))
    made.append(finish_tool(context, answer))
    return made


def screenshot_tool(context: AgentContext, images: bool) -> BaseTool:
    """``screenshot``: a PNG of the page saved among the task's downloads; the model is told its
    name, and, when it reads images in tool messages, shown the picture."""
    options = context.additional_tools.get("screenshot") or {}
    whole = bool(options.get("full_page", False))

    async def screenshot(full_page: bool = whole) -> str | list[str | dict[str, Any]]:
        try:
            name, image = await context.take_screenshot(full_page)
        except ActionFailed as exc:
            context.report_step("screenshot", {"full_page": full_page}, f"Failed: {exc}")
            return f"Failed: {exc}"
        said = f"Saved {name} in the task's downloads."
        context.report_step("screenshot", {"full_page": full_page}, said)
        if not images:
            return said
        picture = {"type": "image", "base64": base64.b64encode(image).decode(), "mime_type": "image/png"}
        return [{"type": "text", "text": said}, picture]

    return StructuredTool.from_function(
        coroutine=screenshot,
        name="screenshot",
        description="Take a screenshot of the page (full_page: the whole scrollable page, not only what "
        "the window shows), saved among the task's downloads; answers the file's name.",
    )


def custom_tools(context: AgentContext) -> list[BaseTool]:
    """The caller's custom tools: each call goes to the caller (a ``tool_call`` event) and waits."""
    offered: list[BaseTool] = []
    for signature in context.custom_tools:

        async def call(_name: str = signature.name, **arguments: Any) -> str:
            try:
                return json.dumps(await context.call_tool(_name, arguments))
            except ToolCallError as exc:
                return f"Failed: {exc}"

        offered.append(
            StructuredTool.from_function(
                coroutine=call,
                name=signature.name,
                description=signature.description,
                args_schema=signature.input_schema,
            )
        )
    return offered


def finish_tool(context: AgentContext, answer: dict[str, Any]) -> BaseTool:
    schema = context.response_model

    async def finish(answer_json: str) -> str:
        try:
            value = json.loads(answer_json) if schema is not None else answer_json
        except json.JSONDecodeError as exc:
            return f"Failed: the answer is not JSON ({exc}); call finish again with a JSON object."
        if schema is not None:
            try:
                jsonschema.validate(value, schema)
            except jsonschema.ValidationError as exc:
                return f"Failed: the answer does not match the schema ({exc.message}); call finish again."
        answer["value"] = value
        return "Task finished."

    description = "End the task with its answer (answer_json: the answer"
    description += f" as JSON matching this schema: {json.dumps(schema)})" if schema else " as text)"
    return StructuredTool.from_function(
        coroutine=finish, name="finish", description=description, return_direct=True
    )


def model_agent(model: Any) -> ModelAgent:
    """The entry point the local server calls when a model is configured."""
    return ModelAgent(model)


__all__: Sequence[str] = ["ModelAgent", "chat_model", "model_agent"]
