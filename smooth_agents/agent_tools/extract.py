"""smooth_extract: one page, one JSON schema, structured data back."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..handles import check_json_schema
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput, ToolOutput
from .common import prompt_field, schema_field, text_of


class ExtractInput(ToolInput):
    url: str = Field(min_length=1, description="The page to read (https://...).")
    json_schema: dict[str, Any] = schema_field()
    prompt: str = prompt_field()


class ExtractOutput(ToolOutput):
    url: str = Field(description="The page the data was read from (after redirects).")
    data: Any = Field(description="The extracted data, matching the schema.")


async def extract(context: ToolContext, args: ExtractInput) -> ExtractOutput:
    check_json_schema(args.json_schema)  # before a browser is opened for nothing
    async with context.client.session() as session:
        await context.progress(f"opening {args.url}", None, None)
        landed = await session.goto(args.url)
        await context.progress("extracting", None, None)
        result = await session.extract(args.json_schema, prompt=args.prompt or None)
    final_url = landed.output.get("url", args.url) if isinstance(landed.output, dict) else args.url
    return ExtractOutput(url=final_url, data=result.output)


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
    summarize=lambda r: f"Data from {r.url}: {text_of(r.data)}",
)
