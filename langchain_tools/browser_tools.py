"""The tools the model agent drives the browser with: ``page_state`` (an outline whose elements
carry refs), ``click``, ``type_text``, ``select_option``, ``hover``, ``press_key``, ``scroll``,
``go_back``, ``goto``, ``switch_tab``, ``wait_for_text``, ``read_page``, ``extract`` (schema-guided,
no model), ``evaluate_js``, the additional tools the task enabled (``screenshot``, ``print_page``,
``drag_drop``), ``look`` (an unsaved picture of the page) for a model that reads images when
screenshots are not enabled, ``hand_over`` (the browser to the caller's person, until they hand
it back) when the caller offered it, the caller's custom tools (``ask_person`` among them when the
caller can ask its person), and ``finish`` with the answer (checked
against the task's ``response_model`` when it has one).

Each action that may change the page answers with the page state after it, so a step is one model
call. A failed action (a stale ref, a blocked address) is answered to the model, which may look
again; every action counts toward ``max_steps`` and is a ``browser_action`` event of the task.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool, StructuredTool

from smooth_agents.json_schemas import json_schema_mismatch
from smooth_agents.local.agents.seam import AgentContext, ToolCallError
from smooth_agents.local.errors import ActionFailed
from smooth_agents.protocol import HAND_OVER_TOOL

# What the model is told of a hand-over's end.
HAND_OVER_ENDS = {
    "done": "The person handed the browser back.",
    "timeout": "The person did not hand the browser back in time; the page is as they left it.",
    "cancelled": "The hand-over was cancelled before the person handed the browser back.",
    "closed": "The browser closed during the hand-over.",
}
# Characters of a page's text (read_page) or data (extract) one answer carries: the model's
# context stays bounded whatever the page (see agent_context).
READ_BUDGET = 20_000
# Characters of a script's value shown to the model.
EVALUATE_BUDGET = 4_000
Action = Callable[..., Awaitable[str]]


def sees_images(model: BaseChatModel) -> bool:
    """True when the model's LangChain profile says it reads images in tool messages."""
    return bool((model.profile or {}).get("image_tool_message"))


def browser_tools(context: AgentContext, answer: dict[str, Any], *, images: bool = False) -> list[BaseTool]:
    """The browser, the additional tools the task enabled, the caller's custom tools and
    ``finish``, as tools for the model; ``images``: the model reads images, so it sees the
    screenshots it takes, or may ``look`` at the page when the task keeps none."""

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

    @tool(
        "The page's main content as markdown (long articles, listings); a long one comes in parts: "
        "start is where this part begins (the answer says where the next one does).",
        counted=False,
    )
    async def read_page(start: int = 0) -> str:
        return in_parts(await context.read_page(), start, "read_page")

    @tool("Data from the page, shaped by a JSON schema given as JSON text (no model).", counted=False)
    async def extract(json_schema: str, prompt: str = "") -> str:
        try:
            schema = json.loads(json_schema)
        except json.JSONDecodeError as exc:
            raise ActionFailed(f"json_schema is not JSON: {exc}") from None
        found = json.dumps(await context.extract(schema, prompt or None))
        if len(found) > READ_BUDGET:
            raise ActionFailed(
                f"The data is {len(found):,} characters, more than one answer holds ({READ_BUDGET:,}): "
                "ask for fewer fields or items."
            )
        return found

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

    @tool(
        "Give the browser to the person you work for, for what only they can do (sign in, a one-time "
        "code, a CAPTCHA, a confirmation): they act in the page and hand it back; answers with the "
        "page as they left it. message: what they should do. Never ask them for a password "
        "otherwise: they type it into the page themselves.",
        shows_page=True,
    )
    async def hand_over(message: str) -> str:
        assert context.hand_over is not None
        ended = await context.hand_over(message)
        return HAND_OVER_ENDS.get(ended, f"The hand-over ended ({ended}).")

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
    elif images:
        made.append(look_tool(context))
    made.extend(t for t in (print_page, drag_drop) if context.enabled(t.name))
    if context.hand_over is not None:
        made.append(hand_over)
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
        return [{"type": "text", "text": said}, _picture(image)]

    return StructuredTool.from_function(
        coroutine=screenshot,
        name="screenshot",
        description="Take a screenshot of the page (full_page: the whole scrollable page, not only what "
        "the window shows), saved among the task's downloads; answers the file's name.",
    )


def look_tool(context: AgentContext) -> BaseTool:
    """``look``: the page as a picture, for a model that reads images, when the task did not ask
    for screenshots to keep (nothing lands in its downloads)."""

    async def look(full_page: bool = False) -> str | list[str | dict[str, Any]]:
        try:
            image = await context.view(full_page)
        except ActionFailed as exc:
            context.report_step("look", {"full_page": full_page}, f"Failed: {exc}")
            return f"Failed: {exc}"
        context.report_step("look", {"full_page": full_page}, "Looked at the page.")
        return [{"type": "text", "text": "The page as it looks now:"}, _picture(image)]

    return StructuredTool.from_function(
        coroutine=look,
        name="look",
        description="See the page as a picture, for what the page state's text does not show "
        "(layout, images, charts, captchas); full_page: the whole scrollable page, not only the window.",
    )


def _picture(image: bytes) -> dict[str, Any]:
    return {"type": "image", "base64": base64.b64encode(image).decode(), "mime_type": "image/png"}


def custom_tools(context: AgentContext) -> list[BaseTool]:
    """The caller's custom tools: each call goes to the caller (a ``tool_call`` event) and waits."""
    offered: list[BaseTool] = []
    for signature in context.custom_tools:
        if signature.name == HAND_OVER_TOOL and context.hand_over is not None:
            continue  # the browser's own hand_over reaches the person through it

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
        # The one check of data against a schema: its references never fetch anything.
        mismatch = json_schema_mismatch(value, schema) if schema is not None else None
        if mismatch is not None:
            return f"Failed: the answer does not match the schema ({mismatch[1]}); call finish again."
        answer["value"] = value
        return "Task finished."

    description = "End the task with its answer (answer_json: the answer"
    description += f" as JSON matching this schema: {json.dumps(schema)})" if schema else " as text)"
    return StructuredTool.from_function(
        coroutine=finish, name="finish", description=description, return_direct=True
    )


def in_parts(text: str, start: int, tool_name: str) -> str:
    """``text`` from ``start``, at most ``READ_BUDGET`` characters, saying where the next part
    starts when there is more."""
    start = max(0, min(start, len(text)))
    part = text[start : start + READ_BUDGET]
    end = start + len(part)
    if start == 0 and end == len(text):
        return part
    where = f"(characters {start:,}-{end:,} of {len(text):,}"
    more = f"; call {tool_name} with start={end} for the next part)" if end < len(text) else "; the end)"
    return f"{where}{more}\n\n{part}"
