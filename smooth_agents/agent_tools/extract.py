"""smooth_extract: one page, one JSON schema, structured data back."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import ToolContext, ToolDefinition, ToolHints, ToolInput
from .common import checked_schema, http_status_note, prompt_field, schema_field, task_metadata
from .render import LongOutput
from .schemas import JsonObject


class ExtractInput(ToolInput):
    url: str = Field(min_length=1, description="The page to read (https://...).")
    json_schema: JsonObject = schema_field()
    prompt: str = prompt_field()


class ExtractOutput(LongOutput):
    long_field = "data"

    url: str = Field(description="The page the data was read from (after redirects).")
    status_code: int | None = Field(default=None, description="The HTTP status the page answered with.")
    session_id: str = Field(description="The (now closed) session that read the page.")
    event_id: str = Field(description="The extract result's id in that session (to read on).")
    data: Any = Field(description="The extracted data, matching the schema.")
    message: str = Field(default="", description="What to know about the result.")

    def reader_arguments(self) -> dict[str, Any] | None:
        return {"task_id": self.session_id, "event_id": self.event_id}


async def extract(context: ToolContext, args: ExtractInput) -> ExtractOutput:
    checked_schema(args.json_schema, "json_schema")  # before a browser is opened for nothing
    async with context.client.session(metadata=task_metadata(context, False)) as session:
        context.sessions.claim(session.id, context.owner, session=True)  # its results are read on by id
        await context.progress(f"opening {args.url}", None, None)
        landed = await session.goto(args.url)
        await context.progress("extracting", None, None)
        result = await session.extract(args.json_schema, prompt=args.prompt or None)
    context.sessions.ended(session.id)  # closed: still its owner's to read on, among their ended ids
    page: dict[str, Any] = landed.output if isinstance(landed.output, dict) else {}
    status = page.get("status")
    return ExtractOutput(
        url=str(page.get("url") or args.url),
        status_code=status if isinstance(status, int) else None,
        session_id=session.id,
        event_id=result.event_id or "",
        data=result.output,
        message=http_status_note(status if isinstance(status, int) else None),
    )


def lead(result: ExtractOutput) -> str:
    text = f"Data from {result.url} (JSON):"
    return f"{result.message} {text}" if result.message else text


EXTRACT = ToolDefinition(
    name="smooth_extract",
    title="Extract structured data from a page",
    description=(
        "Read one web page in a real browser and return data shaped by a JSON schema you give "
        "(e.g. product name and price, a table's rows, an article's author and date). Use it when "
        "you know the URL and what you want from it; for tasks that need clicking or searching, use "
        "smooth_browse or a session."
    ),
    input_model=ExtractInput,
    output_model=ExtractOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=extract,
    lead=lead,
)
