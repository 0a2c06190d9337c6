"""The session tools: open a browser, act on it step by step, close it."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .budget import cut
from .common import (
    Device,
    optional_schema_field,
    prompt_field,
    schema_field,
    session_id_field,
    text_of,
)

# -- open ------------------------------------------------------------------------------------


class SessionOpenInput(ToolInput):
    url: str = Field(default="", description="Optional page to open first (https://...).")
    profile_id: str = Field(default="", description="Optional browser profile id (keeps cookies and logins).")
    device: Device = Field(default="desktop", description="Browser viewport: desktop, mobile or desktop-lg.")
    allowed_urls: list[str] = Field(
        default_factory=list, description="Optional URL glob patterns the browser may load."
    )


class SessionOutput(ToolOutput):
    session_id: str
    live_url: str | None = Field(default=None, description="Where a person can watch or take over.")
    message: str = ""


async def session_open(context: ToolContext, args: SessionOpenInput) -> SessionOutput:
    session = await context.sessions.open(
        url=args.url or None,
        profile_id=args.profile_id or None,
        device=args.device,
        allowed_urls=args.allowed_urls or None,
        custom_tools=list(context.custom_tools) or None,
    )
    return SessionOutput(
        session_id=session.id,
        live_url=session.live_url,
        message="Use this session_id with the smooth_session_* tools; close it with smooth_session_close.",
    )


SESSION_OPEN = ToolDefinition(
    name="smooth_session_open",
    title="Open a browser session",
    description=(
        "Open a real browser session you then drive step by step (smooth_session_goto, "
        "smooth_session_extract, smooth_session_evaluate_js, smooth_session_run_task). Returns a "
        "session_id and a live_url where a person can watch or take over (e.g. to log in). Close it with "
        "smooth_session_close when done; idle sessions are closed after a while."
    ),
    input_model=SessionOpenInput,
    output_model=SessionOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False),
    run=session_open,
    summarize=lambda r: f"Session {r.session_id} open. Live view: {r.live_url}",
)

# -- goto ------------------------------------------------------------------------------------


class GotoInput(ToolInput):
    session_id: str = session_id_field()
    url: str = Field(min_length=1, description="The page to open (https://...).")


class GotoOutput(ToolOutput):
    session_id: str
    url: str = Field(description="The page now shown (after redirects).")
    title: str = ""
    status_code: int | None = None


async def session_goto(context: ToolContext, args: GotoInput) -> GotoOutput:
    async with context.sessions.use(args.session_id) as session:
        result = await session.goto(args.url)
    landed: dict[str, Any] = result.output if isinstance(result.output, dict) else {}
    return GotoOutput(
        session_id=session.id,
        url=str(landed.get("url") or args.url),
        title=str(landed.get("title") or ""),
        status_code=landed.get("status"),
    )


SESSION_GOTO = ToolDefinition(
    name="smooth_session_goto",
    title="Go to a page in a session",
    description=(
        "Open a URL in an open browser session and wait for it to load. Returns the final URL and title."
    ),
    input_model=GotoInput,
    output_model=GotoOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=True),
    run=session_goto,
    summarize=lambda r: f"Session {r.session_id} now shows {r.url} ({r.title!r}).",
)

# -- extract ---------------------------------------------------------------------------------


class SessionExtractInput(ToolInput):
    session_id: str = session_id_field()
    json_schema: dict[str, Any] = schema_field()
    prompt: str = prompt_field()


class SessionExtractOutput(ToolOutput):
    session_id: str
    data: Any = Field(description="The extracted data, matching the schema.")


async def session_extract(context: ToolContext, args: SessionExtractInput) -> SessionExtractOutput:
    async with context.sessions.use(args.session_id) as session:
        result = await session.extract(args.json_schema, prompt=args.prompt or None)
    return SessionExtractOutput(session_id=session.id, data=result.output)


SESSION_EXTRACT = ToolDefinition(
    name="smooth_session_extract",
    title="Extract data from the session's page",
    description=(
        "Extract structured data, shaped by a JSON schema, from the page an open session shows now "
        "(after smooth_session_goto or smooth_session_run_task)."
    ),
    input_model=SessionExtractInput,
    output_model=SessionExtractOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=session_extract,
    summarize=lambda r: f"Data from session {r.session_id}: {text_of(r.data)}",
)

# -- evaluate_js -----------------------------------------------------------------------------


class EvaluateJsInput(ToolInput):
    session_id: str = session_id_field()
    code: str = Field(
        min_length=1,
        description="JavaScript run in the page: an expression (document.title) or a function "
        "taking `args` ((args) => document.querySelectorAll(args.selector).length). "
        "The value comes back as JSON.",
    )
    args: dict[str, Any] = Field(default_factory=dict, description="Optional arguments passed to a function.")


class EvaluateJsOutput(ToolOutput):
    session_id: str
    result: Any = Field(description="The script's value, as JSON.")


async def session_evaluate_js(context: ToolContext, args: EvaluateJsInput) -> EvaluateJsOutput:
    async with context.sessions.use(args.session_id) as session:
        result = await session.evaluate_js(args.code, args.args or None)
    return EvaluateJsOutput(session_id=session.id, result=result.output)


SESSION_EVALUATE_JS = ToolDefinition(
    name="smooth_session_evaluate_js",
    title="Run JavaScript in the session's page",
    description=(
        "Run JavaScript in the page of an open session and get its value: read the DOM, click, fill, "
        "scroll. It acts as the page would, so it can change the page and submit forms."
    ),
    input_model=EvaluateJsInput,
    output_model=EvaluateJsOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=False),
    run=session_evaluate_js,
    summarize=lambda r: f"Result: {text_of(r.result)}",
)

# -- run_task --------------------------------------------------------------------------------


class SessionRunTaskInput(ToolInput):
    session_id: str = session_id_field()
    task: str = Field(
        min_length=1, description="What the agent should do in this browser, in plain language."
    )
    response_schema: dict[str, Any] = optional_schema_field()
    max_steps: int = Field(default=32, ge=2, le=128, description="Most browser steps the agent may take.")


class SessionRunTaskOutput(ToolOutput):
    session_id: str
    output: Any = Field(default=None, description="The agent's answer: text, or JSON matching the schema.")
    truncated: bool = False
    message: str = ""


async def session_run_task(context: ToolContext, args: SessionRunTaskInput) -> SessionRunTaskOutput:
    async with context.sessions.use(args.session_id) as session:
        await context.progress(f"running a task in session {session.id}", None, None)
        result = await session.run_task(args.task, args.response_schema or None, max_steps=args.max_steps)
    part, more, next_index = cut(result.output, 0, context.settings.content_budget)
    message = f"The answer was cut at {next_index} characters." if more else ""
    return SessionRunTaskOutput(session_id=session.id, output=part, truncated=more, message=message)


SESSION_RUN_TASK = ToolDefinition(
    name="smooth_session_run_task",
    title="Let the agent do a task in a session",
    description=(
        "Have the browser agent carry out a task in plain language inside an open session, starting "
        "from the page it shows (e.g. 'log in with the saved account', 'add the first result to the "
        "cart'). Optionally give a response_schema for a JSON answer."
    ),
    input_model=SessionRunTaskInput,
    output_model=SessionRunTaskOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=False),
    run=session_run_task,
    summarize=lambda r: f"Session {r.session_id}: {text_of(r.output)}",
    embedded_note=(
        "This server runs the built-in local browser without a model: a task here reads the current "
        "page as text, or extracts JSON when response_schema is given."
    ),
)

# -- close -----------------------------------------------------------------------------------


class SessionCloseInput(ToolInput):
    session_id: str = session_id_field()


class SessionCloseOutput(ToolOutput):
    session_id: str
    closed: bool = Field(description="True if this call closed it; False if it was closed already.")


async def session_close(context: ToolContext, args: SessionCloseInput) -> SessionCloseOutput:
    return SessionCloseOutput(
        session_id=args.session_id, closed=await context.sessions.close(args.session_id)
    )


SESSION_CLOSE = ToolDefinition(
    name="smooth_session_close",
    title="Close a browser session",
    description="Close an open browser session and free its browser. Closing twice is harmless.",
    input_model=SessionCloseInput,
    output_model=SessionCloseOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True),
    run=session_close,
    summarize=lambda r: f"Session {r.session_id} {'closed' if r.closed else 'was already closed'}.",
)

# -- list ------------------------------------------------------------------------------------


class SessionListInput(ToolInput):
    pass


class SessionInfo(ToolOutput):
    session_id: str
    live_url: str | None = None
    idle_seconds: float


class SessionListOutput(ToolOutput):
    sessions: list[SessionInfo]


async def session_list(context: ToolContext, args: SessionListInput) -> SessionListOutput:
    return SessionListOutput(
        sessions=[
            SessionInfo(
                session_id=t.session.id, live_url=t.session.live_url, idle_seconds=round(t.idle_seconds, 1)
            )
            for t in context.sessions.open_sessions()
        ]
    )


SESSION_LIST = ToolDefinition(
    name="smooth_session_list",
    title="List open browser sessions",
    description="List the browser sessions this server has open, with their live URLs and idle time.",
    input_model=SessionListInput,
    output_model=SessionListOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    run=session_list,
    summarize=lambda r: (
        "Open sessions: " + ", ".join(s.session_id for s in r.sessions) if r.sessions else "No open sessions."
    ),
)
