"""The session tools: open a browser, act on it step by step, close it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import Field

if TYPE_CHECKING:
    from ..session import AsyncSession

from .. import hand_over as handing
from ..errors import ToolFailure
from ..protocol import Device
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .browse import (
    DOWNLOADS_URL_HELP,
    LIVE_URL_HELP,
    RECORDING_URL_HELP,
    OmitsAbsentLinks,
    file_links,
    links_text,
)
from .common import (
    LOCAL_LIVE_VIEW,
    checked_schema,
    device_field,
    files_field,
    http_status_note,
    max_steps,
    max_steps_field,
    optional_schema_field,
    prompt_field,
    schema_field,
    session_id_field,
    task_metadata,
    whole_page_field,
)
from .render import LongOutput, kind_of, value_kind
from .schemas import JsonObject

# -- open ------------------------------------------------------------------------------------


class SessionOpenInput(ToolInput):
    url: str = Field(default="", description="Page to open first (https://...); empty for a blank page.")
    profile_id: str = Field(
        default="", description="Browser profile id (keeps cookies and logins); empty for a fresh browser."
    )
    device: Device = device_field()
    allowed_urls: list[str] = Field(
        default_factory=list, description="URL glob patterns the browser may load; empty for no limit."
    )
    files: list[str] = files_field()


def not_with_a_person(session: AsyncSession) -> None:
    """Refuse an action while a person has the browser: the server would hold it until they hand
    back (minutes), and the model is better told at once what to do instead."""
    pending = handing.last_of(session)
    if pending is not None and not pending.done:
        raise ToolFailure(
            f"A person has the browser of session {session.id} (handed over with "
            "smooth_session_handoff, not yet handed back). Call smooth_session_handoff again with "
            "this session_id to wait for the hand-back, or smooth_session_close to end the session."
        )


class SessionOutput(ToolOutput):
    session_id: str
    live_url: str | None = Field(default=None, description=LIVE_URL_HELP)
    url: str = Field(default="", description="The page shown (after redirects), when a url was given.")
    title: str = ""
    status_code: int | None = Field(default=None, description="The HTTP status the first page answered with.")
    message: str = ""


async def session_open(context: ToolContext, args: SessionOpenInput) -> SessionOutput:
    opened = await context.sessions.open(
        owner=context.owner,
        profile_id=args.profile_id or None,
        device=args.device,
        allowed_urls=args.allowed_urls or None,
        files=args.files or None,
        custom_tools=list(context.custom_tools) or None,
        metadata=task_metadata(context, False),
    )
    how = "Use this session_id with the smooth_session_* tools; close it with smooth_session_close."
    if not args.url:
        return SessionOutput(session_id=opened.id, live_url=opened.live_url, message=how)
    # The first page is loaded as an action, so a page that does not load is an error here
    # (not a session showing a browser error page), and its status is known.
    try:
        async with context.sessions.use(opened.id, context.owner) as session:
            landed = await session.goto(args.url)
    except BaseException as failure:
        # Not opened, as far as the caller knows (the page failed, or the call was cancelled
        # before it answered): closed here, else it would hold a browser until its idle timeout.
        # Cancelled, the page may still be loading: ended at once rather than after that load.
        cancelled = isinstance(failure, asyncio.CancelledError)
        await asyncio.shield(context.sessions.close(opened.id, context.owner, force=cancelled))
        raise
    page = _page(landed.output, args.url)
    note = http_status_note(page.status_code)
    return SessionOutput(
        session_id=opened.id,
        live_url=opened.live_url,
        url=page.url,
        title=page.title,
        status_code=page.status_code,
        message=f"{note} {how}" if note else how,
    )


class _Page(ToolOutput):
    url: str
    title: str = ""
    status_code: int | None = None


def _page(output: Any, asked: str) -> _Page:
    landed: dict[str, Any] = output if isinstance(output, dict) else {}
    status = landed.get("status")
    return _Page(
        url=str(landed.get("url") or asked),
        title=str(landed.get("title") or ""),
        status_code=status if isinstance(status, int) else None,
    )


def _open_lead(r: SessionOutput) -> str:
    shows = f" It shows {r.url} ({r.title!r}, HTTP {r.status_code})." if r.url else ""
    return f"Session {r.session_id} is open.{shows} Live view: {r.live_url}"


SESSION_OPEN = ToolDefinition(
    name="smooth_session_open",
    title="Open a browser session",
    description=(
        "Open a real browser session you then drive step by step (smooth_session_goto, "
        "smooth_session_extract, smooth_session_evaluate_js, smooth_session_run_task). Returns a "
        "session_id and a live_url where a person can watch the browser; smooth_session_handoff gives "
        "it to them (to sign in, for a code) until they hand it back. Close it with "
        "smooth_session_close when done; idle sessions are closed after a while."
    ),
    input_model=SessionOpenInput,
    output_model=SessionOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False),
    run=session_open,
    lead=_open_lead,
    embedded_note="This server runs the built-in local browser. " + LOCAL_LIVE_VIEW,
)

# -- goto ------------------------------------------------------------------------------------


class GotoInput(ToolInput):
    session_id: str = session_id_field()
    url: str = Field(min_length=1, description="The page to open (https://...).")


class GotoOutput(ToolOutput):
    session_id: str
    url: str = Field(description="The page now shown (after redirects).")
    title: str = ""
    status_code: int | None = Field(default=None, description="The HTTP status the page answered with.")
    message: str = ""


async def session_goto(context: ToolContext, args: GotoInput) -> GotoOutput:
    async with context.sessions.use(args.session_id, context.owner) as session:
        not_with_a_person(session)
        result = await session.goto(args.url)
    page = _page(result.output, args.url)
    return GotoOutput(
        session_id=session.id,
        url=page.url,
        title=page.title,
        status_code=page.status_code,
        message=http_status_note(page.status_code),
    )


def _goto_lead(r: GotoOutput) -> str:
    text = f"Session {r.session_id} now shows {r.url} ({r.title!r}, HTTP {r.status_code})."
    return f"{text} {r.message}" if r.message else text


SESSION_GOTO = ToolDefinition(
    name="smooth_session_goto",
    title="Go to a page in a session",
    description=(
        "Open a URL in an open browser session and wait for it to load. Returns the final URL, the "
        "title and the HTTP status."
    ),
    input_model=GotoInput,
    output_model=GotoOutput,
    hints=ToolHints(read_only=False, destructive=False, idempotent=True),
    run=session_goto,
    lead=_goto_lead,
)

# -- extract ---------------------------------------------------------------------------------


class SessionExtractInput(ToolInput):
    session_id: str = session_id_field()
    json_schema: JsonObject = schema_field()
    prompt: str = prompt_field()


class SessionResult(LongOutput):
    """One session action's long result, read on from the session's events."""

    session_id: str
    event_id: str = Field(default="", description="The action's id in the session (to read on).")

    def reader_arguments(self) -> dict[str, Any] | None:
        return {"task_id": self.session_id, "event_id": self.event_id} if self.event_id else None


class SessionExtractOutput(SessionResult):
    long_field = "data"

    data: Any = Field(description="The extracted data, matching the schema.")


async def session_extract(context: ToolContext, args: SessionExtractInput) -> SessionExtractOutput:
    async with context.sessions.use(args.session_id, context.owner) as session:
        not_with_a_person(session)
        schema = checked_schema(args.json_schema, "json_schema")
        result = await session.extract(schema, prompt=args.prompt or None)
    return SessionExtractOutput(session_id=session.id, event_id=result.event_id or "", data=result.output)


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
    lead=lambda r: f"Data from session {r.session_id} (JSON):",
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
    args: JsonObject = Field(
        default_factory=dict,
        description='Arguments for a function, as a JSON object in text (e.g. {"selector": "h2"}); '
        "empty for none.",
    )


class EvaluateJsOutput(SessionResult):
    long_field = "result"

    result: Any = Field(description="The script's value, as JSON.")


async def session_evaluate_js(context: ToolContext, args: EvaluateJsInput) -> EvaluateJsOutput:
    async with context.sessions.use(args.session_id, context.owner) as session:
        not_with_a_person(session)
        result = await session.evaluate_js(args.code, args.args or None)
    return EvaluateJsOutput(session_id=session.id, event_id=result.event_id or "", result=result.output)


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
    lead=lambda r: f"Value of the script in session {r.session_id} {value_kind(r.result)}",
)

# -- run_task --------------------------------------------------------------------------------


class SessionRunTaskInput(ToolInput):
    session_id: str = session_id_field()
    task: str = Field(
        min_length=1, description="What the agent should do in this browser, in plain language."
    )
    response_schema: JsonObject = optional_schema_field()
    max_steps: int = max_steps_field()
    whole_page: bool = whole_page_field()


class SessionRunTaskOutput(SessionResult):
    output: Any = Field(default=None, description="The agent's answer: text, or JSON matching the schema.")


async def session_run_task(context: ToolContext, args: SessionRunTaskInput) -> SessionRunTaskOutput:
    async with context.sessions.use(args.session_id, context.owner) as session:
        not_with_a_person(session)
        await context.progress(f"running a task in session {session.id}", None, None)
        result = await session.run_task(
            args.task,
            checked_schema(args.response_schema, "response_schema") or None,
            max_steps=max_steps(args.max_steps),
            metadata=task_metadata(context, args.whole_page),
        )
    return SessionRunTaskOutput(session_id=session.id, event_id=result.event_id or "", output=result.output)


def _run_task_lead(r: SessionRunTaskOutput) -> str:
    return f"Answer of the task in session {r.session_id} ({kind_of(r.output)}):"


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
    lead=_run_task_lead,
    embedded_note=(
        "This server runs the built-in local browser without a model: a task here reads the current "
        "page as text, or extracts JSON when response_schema is given."
    ),
    embedded_model_note=(
        "This server runs the built-in local browser with a model of its own: a task here is done in "
        "plain language by that model in the session's browser, from the page it shows, and the "
        "session stays where the task left it."
    ),
)

# -- close -----------------------------------------------------------------------------------


class SessionCloseInput(ToolInput):
    session_id: str = session_id_field()


class SessionCloseOutput(ToolOutput, OmitsAbsentLinks):
    session_id: str
    closed: bool = Field(description="True if this call closed it; False if it was closed already.")
    downloads_url: str | None = Field(default=None, description=DOWNLOADS_URL_HELP)
    recording_url: str | None = Field(default=None, description=RECORDING_URL_HELP)


async def session_close(context: ToolContext, args: SessionCloseInput) -> SessionCloseOutput:
    closed = await context.sessions.close(args.session_id, context.owner)
    downloads_url, recording_url = await file_links(context, args.session_id) if closed else (None, None)
    return SessionCloseOutput(
        session_id=args.session_id, closed=closed, downloads_url=downloads_url, recording_url=recording_url
    )


def _close_lead(r: SessionCloseOutput) -> str:
    links = links_text(r.downloads_url, r.recording_url)
    return f"Session {r.session_id} {'closed' if r.closed else 'was already closed'}." + (
        f" Its {links}." if links else ""
    )


SESSION_CLOSE = ToolDefinition(
    name="smooth_session_close",
    title="Close a browser session",
    description="Close an open browser session and free its browser. Closing twice is harmless.",
    input_model=SessionCloseInput,
    output_model=SessionCloseOutput,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True),
    run=session_close,
    lead=_close_lead,
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
            SessionInfo(session_id=s.session_id, live_url=s.live_url, idle_seconds=round(s.idle_seconds, 1))
            for s in await context.sessions.listed(context.owner)
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
    lead=lambda r: f"{len(r.sessions)} open session(s):" if r.sessions else "No open sessions.",
)
