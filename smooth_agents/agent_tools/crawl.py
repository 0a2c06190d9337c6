"""smooth_map and smooth_crawl: the pages of a site found, or read, in one call.

Both run as jobs in the runtime (crawl_jobs.py): the call waits for the job up to its wait, then
answers with the pages so far and, while it still runs, the id smooth_task_status reads on with.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field

from ..crawl import UrlGlobs, normalize_url
from ..errors import ToolFailure
from .base import ToolContext, ToolDefinition, ToolHints, ToolInput
from .common import checked_schema
from .crawl_jobs import CrawlJob
from .crawl_pages import crawled_data, crawled_markdown, mapped
from .render import LongOutput
from .schemas import JsonObject

DEFAULT_MAP_PAGES = 100
MAX_MAP_PAGES = 500
DEFAULT_CRAWL_PAGES = 20
MAX_CRAWL_PAGES = 100
MAX_DEPTH = 10
# Room a URL takes in a lead line (the whole URL is in the structured result).
_URL_ROOM = 120

Form = Literal["urls", "markdown", "json_lines"]
FORM_HELP = (
    "How content reads: urls (one URL per line), markdown (each page under its '=== Page N: URL' "
    "line) or json_lines (one JSON object per page: url, and data or error)."
)


def start_url_field() -> Any:
    return Field(
        min_length=1,
        description="The page to start from (https://...); its host is the site, unless a page "
        "redirects the start to another host of the same site (example.com to www.example.com).",
    )


def include_field() -> Any:
    return Field(
        default_factory=list,
        description="URL glob patterns a page must match to be taken, e.g. ['**/products/**']; "
        "empty for every page of the site. The start page is always visited, to find links.",
    )


def exclude_field() -> Any:
    return Field(
        default_factory=list,
        description="URL glob patterns of pages to leave out, e.g. ['**/blog/**', '**?page=*']; "
        "empty for none.",
    )


class MapInput(ToolInput):
    url: str = start_url_field()
    limit: int = Field(
        default=0,
        ge=0,
        le=MAX_MAP_PAGES,
        description=f"Most pages to list (failed ones count), 1 to {MAX_MAP_PAGES}; 0 for "
        f"{DEFAULT_MAP_PAGES}.",
    )
    include: list[str] = include_field()
    exclude: list[str] = exclude_field()


class CrawlInput(ToolInput):
    url: str = start_url_field()
    limit: int = Field(
        default=0,
        ge=0,
        le=MAX_CRAWL_PAGES,
        description=f"Most pages to read (failed ones count), 1 to {MAX_CRAWL_PAGES}; 0 for "
        f"{DEFAULT_CRAWL_PAGES}.",
    )
    max_depth: int = Field(
        default=0,
        ge=0,
        le=MAX_DEPTH,
        description=f"Most links to follow away from the start page, 1 to {MAX_DEPTH}; 0 for no bound "
        "(limit still ends the crawl). Pages listed in the sitemap count as one link away.",
    )
    include: list[str] = include_field()
    exclude: list[str] = exclude_field()
    json_schema: JsonObject = Field(
        default_factory=dict,
        description="Optional JSON schema, as JSON text, of the data to take from each page (e.g. "
        '{"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}); '
        "empty to read each page as markdown.",
    )
    wait_seconds: float = Field(
        default=0,
        ge=0,
        description="Seconds to wait for the whole crawl before answering status 'running' with the "
        "pages so far and its task_id; 0 for the server's default. Read on later with "
        "smooth_task_status.",
    )


class PagesOutput(LongOutput):
    long_field = "content"

    task_id: str = Field(
        description="This job's id: smooth_task_status reads its pages (so far, then the rest), "
        "smooth_task_cancel stops it."
    )
    status: str = Field(description="running, done, failed or cancelled")
    url: str = Field(description="The start URL.")
    pages: int = Field(description="Pages finished so far, failed ones included.")
    failed: int = Field(description="Pages that failed, each marked where it is listed.")
    form: Form = Field(description=FORM_HELP)
    content: str = Field(default="", description="The pages, in the order they finished.")
    message: str = Field(default="", description="What happened and what to do next.")

    def reader_arguments(self) -> dict[str, Any] | None:
        return {"task_id": self.task_id}

    def continued_lead(self) -> str:
        return f"Pages of {self.task_id}, continued:"


def checked_start(url: str) -> str:
    """The start URL, refused before anything starts when no page could be at it."""
    if normalize_url(url.strip()) is None:
        raise ToolFailure(f"url must be a web address with a host (https://...), not {url!r}.")
    return url.strip()


def checked_globs(include: list[str], exclude: list[str]) -> None:
    try:
        UrlGlobs.of(include, exclude)
    except ValueError as exc:
        raise ToolFailure(f"{exc}: leave a list empty instead.") from None


def _counts(job: CrawlJob) -> str:
    said = f"{job.pages} page{'s' if job.pages != 1 else ''}"
    return f"{said}, {job.failed} failed" if job.failed else said


def job_message(job: CrawlJob) -> str:
    """What a job's reader is told besides its pages: how far it is, and what to call next."""
    if job.running:
        if job.kind == "batch":
            return (
                f"Still reading: {job.pages} of {job.limit} pages done. Call smooth_task_status with "
                f"task_id={job.id!r} later for all of them, or smooth_task_cancel to stop it."
            )
        return (
            f"Still running, {_counts(job)} so far. Pages that finish later come after these: "
            f'smooth_task_status(task_id="{job.id}", start_index={len(job.text)}) reads from there; '
            "smooth_task_cancel stops it."
        )
    if job.status == "failed":
        return f"It failed after {_counts(job)}: {job.error}"
    if job.status == "cancelled":
        why = f" ({job.error})" if job.error else ""
        return f"Cancelled{why} after {_counts(job)}; these are its pages until then."
    if job.kind != "batch" and not job.pages:
        return (
            "Done, and no page was reached: the site's robots.txt asks crawlers to keep away from "
            "the start page."
        )
    if job.kind != "batch" and job.pages >= job.limit:
        return (
            f"Done: {_counts(job)}, stopped at the limit of {job.limit}; the site may have more "
            "(a higher limit reaches them, include/exclude choose which)."
        )
    return f"Done: {_counts(job)}."


def pages_output(job: CrawlJob, form: Form) -> PagesOutput:
    return PagesOutput(
        task_id=job.id,
        status=job.status,
        url=job.url,
        pages=job.pages,
        failed=job.failed,
        form=form,
        content=job.text,
        message=job_message(job),
    )


def wait_for(context: ToolContext, wait_seconds: float) -> float:
    settings = context.settings
    return min(wait_seconds or settings.wait_seconds, settings.max_wait_seconds)


async def answered(context: ToolContext, job: CrawlJob, wait: float, form: Form) -> PagesOutput:
    """Wait for ``job`` up to ``wait`` seconds, then its pages; a job that failed before any page
    is this call's failure."""
    await context.crawls.wait(job, wait, context.progress)
    if job.status == "failed" and not job.pages:
        raise ToolFailure(f"{job.id} failed before any page: {job.error}")
    return pages_output(job, form)


async def site_map(context: ToolContext, args: MapInput) -> PagesOutput:
    url = checked_start(args.url)
    checked_globs(args.include, args.exclude)
    limit = args.limit or DEFAULT_MAP_PAGES
    pages = context.client.map(url, limit=limit, include=tuple(args.include), exclude=tuple(args.exclude))
    job = context.crawls.start("map", context.owner, url, limit, pages, mapped)
    return await answered(context, job, wait_for(context, 0), "urls")


async def crawl(context: ToolContext, args: CrawlInput) -> PagesOutput:
    url = checked_start(args.url)
    checked_globs(args.include, args.exclude)
    schema = checked_schema(args.json_schema, "json_schema")
    limit = args.limit or DEFAULT_CRAWL_PAGES
    pages = context.client.crawl(
        url,
        limit=limit,
        max_depth=args.max_depth or None,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        response_model=schema or None,
    )
    if schema:
        job = context.crawls.start("crawl", context.owner, url, limit, pages, crawled_data)
    else:
        numbers = itertools.count(1)
        job = context.crawls.start(
            "crawl", context.owner, url, limit, pages, lambda page: crawled_markdown(next(numbers), page)
        )
    return await answered(
        context, job, wait_for(context, args.wait_seconds), "json_lines" if schema else "markdown"
    )


def _short(url: str) -> str:
    return url if len(url) <= _URL_ROOM else url[: _URL_ROOM - 1] + "…"


_FORM_WORDS: dict[str, str] = {
    "urls": "one URL per line",
    "markdown": "markdown, each page under its === Page line",
    "json_lines": "one JSON line per page",
}


def lead(result: PagesOutput) -> str:
    what = "Site map" if result.form == "urls" else "Crawl"
    count = f"{result.pages} page{'s' if result.pages != 1 else ''}"
    if result.failed:
        count += f", {result.failed} failed"
    if result.status == "running":
        return f"{what} {result.task_id} of {_short(result.url)} is running. {result.message}"
    about = f"{result.status}; {count}; {_FORM_WORDS[result.form]}"
    text = f"{what} {result.task_id} of {_short(result.url)} ({about}):"
    # The message leads when it says more than the counts (the limit reached, a failure).
    return text if result.message in ("", f"Done: {count}.") else f"{result.message} {text}"


MAP = ToolDefinition(
    name="smooth_map",
    title="List the pages of a site",
    description=(
        "Find the pages of a web site without reading them: from `url`, follow the links its pages "
        "show (rendered in a real browser) and its sitemap.xml, on the start URL's host, obeying "
        "robots.txt, each page once (tracking parameters and #fragments dropped, redirects followed "
        "to where they land). Use it to learn what a site has before reading part of it "
        "(smooth_extract with urls, smooth_crawl with include). Returns one URL per line, failed "
        f"pages marked; at most `limit` pages ({MAX_MAP_PAGES}); `include` / `exclude` URL globs "
        "choose which. A map still going after the server's wait answers 'running' with a task_id "
        "for smooth_task_status."
    ),
    input_model=MapInput,
    output_model=PagesOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=site_map,
    lead=lead,
)

CRAWL = ToolDefinition(
    name="smooth_crawl",
    title="Read many pages of a site",
    description=(
        "Read the pages of one web site in one call: from `url`, find pages as smooth_map does, and "
        "read each in a real browser, as markdown, or with `json_schema` as data shaped by it (one "
        "JSON line per page: every product, job or article of a site). Narrow it with `include` / "
        "`exclude` URL globs (e.g. ['**/products/**']) and `max_depth`; at most `limit` pages "
        f"({MAX_CRAWL_PAGES}). Each page's failure is shown on that page. A crawl still going after "
        "`wait_seconds` answers status 'running' with the pages so far and a task_id: "
        "smooth_task_status reads the pages that follow, smooth_task_cancel stops it. Long results "
        "come in parts (read_more). For a known list of pages, smooth_extract with `urls` is faster."
    ),
    input_model=CrawlInput,
    output_model=PagesOutput,
    hints=ToolHints(read_only=True, destructive=False, idempotent=True),
    run=crawl,
    lead=lead,
)
