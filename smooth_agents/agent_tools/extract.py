"""smooth_extract: one page (or a list of pages), one JSON schema, structured data back."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ..errors import ToolFailure
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput
from .common import checked_schema, http_status_note, prompt_field, schema_field, task_metadata
from .crawl import job_message
from .crawl_pages import crawled_data, in_given_order
from .render import LongOutput
from .schemas import JsonObject

# Pages one call reads: a batch is read within one answer's wait, and a site's worth of pages is
# smooth_crawl's work.
MAX_URLS = 20


class ExtractInput(ToolInput):
    url: str = Field(default="", description="The page to read (https://...); empty when urls is given.")
    urls: list[str] = Field(
        default_factory=list,
        description=f"Several pages to read with the same schema, at most {MAX_URLS}, instead of url: "
        "one entry per page in this order, each with its data or its own error; empty for one url.",
    )
    json_schema: JsonObject = schema_field()
    prompt: str = prompt_field()

    @model_validator(mode="after")
    def _one_url_or_a_list(self) -> ExtractInput:
        if bool(self.url) == bool(self.urls):
            raise ValueError("give exactly one of url (one page) and urls (a list of pages)")
        if len(self.urls) > MAX_URLS:
            raise ValueError(
                f"urls takes at most {MAX_URLS} pages, not {len(self.urls)}: split them over several "
                "calls, or read a whole site with smooth_crawl"
            )
        return self


class ExtractOutput(LongOutput):
    long_field = "data"

    url: str = Field(default="", description="The page the data was read from (after redirects).")
    status_code: int | None = Field(default=None, description="The HTTP status the page answered with.")
    session_id: str = Field(default="", description="The (now closed) session that read the page.")
    event_id: str = Field(default="", description="The extract result's id in that session (to read on).")
    task_id: str = Field(
        default="", description="With urls: the id of the batch, read on with smooth_task_status."
    )
    data: Any = Field(
        default=None,
        description="The extracted data, matching the schema; with urls, a list of one entry per "
        "page in the order given: {url, data} or {url, error}.",
    )
    message: str = Field(default="", description="What to know about the result.")

    def reader_arguments(self) -> dict[str, Any] | None:
        if self.task_id:
            return {"task_id": self.task_id}
        return {"task_id": self.session_id, "event_id": self.event_id}


async def extract(context: ToolContext, args: ExtractInput) -> ExtractOutput:
    checked_schema(args.json_schema, "json_schema")  # before a browser is opened for nothing
    if args.urls:
        return await extract_many(context, args)
    opened: str | None = None
    try:
        async with context.client.session(metadata=task_metadata(context, False)) as session:
            opened = session.id
            context.sessions.claim(opened, context.owner, session=True)  # its results are read on by id
            await context.progress(f"opening {args.url}", None, None)
            landed = await session.goto(args.url)
            await context.progress("extracting", None, None)
            result = await session.extract(args.json_schema, prompt=args.prompt or None)
    finally:
        if opened is not None:  # closed, however the call ended: still its owner's to read on
            context.sessions.ended(opened)
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


async def extract_many(context: ToolContext, args: ExtractInput) -> ExtractOutput:
    """The batch runs as a job (crawl_jobs.py), so its result is read on, and stopped, by id."""
    pages = context.client.extract_many(args.urls, args.json_schema, prompt=args.prompt or None)
    job = context.crawls.start(
        "batch",
        context.owner,
        args.urls[0],
        len(args.urls),
        pages,
        crawled_data,
        conclude=lambda reads: in_given_order(reads, args.urls),
    )
    await context.crawls.wait(job, context.settings.max_wait_seconds, context.progress)
    if job.status == "failed" and not job.pages:
        raise ToolFailure(f"Reading the pages failed: {job.error}")
    if job.status == "done":
        message = f"{job.pages} pages read" + (f", {job.failed} of them failed." if job.failed else ".")
    else:
        message = job_message(job)
    return ExtractOutput(task_id=job.id, data=job.final, message=message)


def lead(result: ExtractOutput) -> str:
    if result.task_id:
        text = f"Data from the pages of {result.task_id} (JSON: one entry per URL, in the order given):"
        if result.data is None:  # still reading
            return f"{result.message} {result.task_id} has no data yet."
        return f"{result.message} {text}" if result.message else text
    text = f"Data from {result.url} (JSON):"
    return f"{result.message} {text}" if result.message else text


EXTRACT = ToolDefinition(
    name="smooth_extract",
    title="Extract structured data from a page",
    description=(
        "Read one web page in a real browser and return data shaped by a JSON schema you give "
        "(e.g. product name and price, a table's rows, an article's author and date). Use it when "
        f"you know the URL and what you want from it; give `urls` instead (at most {MAX_URLS}) to read "
        "several pages with one schema in parallel, one entry per page, each page's failure its "
        "own. For tasks that need clicking or searching, use smooth_browse or a session; to find "
        "or read a site's pages, smooth_map and smooth_crawl."
    ),
    input_model=ExtractInput,
    output_model=ExtractOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=extract,
    lead=lead,
)
