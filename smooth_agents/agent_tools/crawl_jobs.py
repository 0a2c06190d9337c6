"""Jobs of many pages (a map, a crawl, a batch of pages) running in the background of the tools.

One call starts a job and later calls read it (smooth_task_status), so the job lives in the
runtime rather than in the call that started it. Its runner takes the pages as they finish,
keeps each page's text (the text only grows: a part read while the job runs stays a prefix of the
whole) and tells the calls waiting on it. Each job is its caller's: claimed in the session
registry like a task, so another caller's id reads as unknown, and its id stays its owner's after
it is forgotten here. A job nobody has looked at for the idle TTL is cancelled (its pages so far
kept one more TTL), an ended one is forgotten after that TTL, and closing the runtime cancels them
all. Cancelling a job closes its page iterator, which closes the browser sessions it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Literal

from ..cancellation import cancel_and_wait
from ..errors import SmoothError, ToolFailure
from .base import ProgressSink
from .crawl_pages import PageRead
from .reaper import Reaper

if TYPE_CHECKING:
    from .registry import SessionRegistry

log = logging.getLogger("smooth_agents.tools")

JobKind = Literal["map", "crawl", "batch"]
# What the ids of each kind start with: smooth_task_status tells a job from a Smooth task by it.
JOB_ID_PREFIXES: dict[JobKind, str] = {"map": "map_", "crawl": "crawl_", "batch": "batch_"}
# Jobs running at once per caller: each holds browser sessions of the plan's concurrency.
MAX_RUNNING_PER_OWNER = 4
# Ended jobs kept per caller (older ones are forgotten first, besides the idle TTL).
KEPT_PER_OWNER = 20


def is_job_id(task_id: str) -> bool:
    return task_id.startswith(tuple(JOB_ID_PREFIXES.values()))


class CrawlJob:
    """One job: what it is, its pages so far, and how it ended."""

    def __init__(self, kind: JobKind, owner: str, url: str, limit: int, *, concluded: bool = False) -> None:
        self.id = JOB_ID_PREFIXES[kind] + secrets.token_hex(8)
        self.kind: JobKind = kind
        self.owner = owner
        self.url = url
        self.limit = limit
        self.status: Literal["running", "done", "failed", "cancelled"] = "running"
        self.error = ""
        self.reads: list[PageRead] = []
        self.failed = 0
        # The value read once the job has ended, where it is not the text (a batch's entries in
        # the order given): nothing is read before, so no part read early belongs to another value.
        self.concluded = concluded
        self.final: Any = None
        self.last_used = time.monotonic()
        self.busy = 0  # calls waiting on it: a job being waited on is never idle
        self.listeners: list[ProgressSink] = []
        self.runner: asyncio.Task[None] | None = None
        self._parts: list[str] = []
        self._text = ""

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def pages(self) -> int:
        return len(self.reads)

    @property
    def text(self) -> str:
        """Every page's text so far, in the order the pages finished."""
        if self._parts:  # joined once per change, not once per page
            self._text += "".join(self._parts)
            self._parts.clear()
        return self._text

    def output(self) -> Any:
        return self.final if self.concluded else self.text

    def add(self, read: PageRead) -> None:
        self.reads.append(read)
        self._parts.append(read.text)
        if not read.ok:
            self.failed += 1

    def touch(self) -> None:
        self.last_used = time.monotonic()

    async def tell(self, read: PageRead) -> None:
        """Tell the calls waiting on the job that a page finished (best effort)."""
        said = f"{self.kind} {self.id}: page {self.pages} of at most {self.limit} · {read.url}"
        if not read.ok:
            said += " (failed)"
        for listener in list(self.listeners):
            try:
                await listener(said, float(self.pages), float(self.limit))
            except Exception:  # the listener went away (a closed stream): the job goes on
                log.debug("progress not delivered", exc_info=True)


class CrawlJobs:
    """The jobs of one runtime, by id."""

    def __init__(self, sessions: SessionRegistry, *, ttl: float = 900.0) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.sessions = sessions
        self.ttl = ttl
        self._jobs: dict[str, CrawlJob] = {}
        self._reaper = Reaper(self.reap, "crawl job")

    def __len__(self) -> int:
        return len(self._jobs)

    def start(
        self,
        kind: JobKind,
        owner: str,
        url: str,
        limit: int,
        pages: AsyncGenerator[Any, None],
        read: Callable[[Any], PageRead],
        conclude: Callable[[list[PageRead]], Any] | None = None,
    ) -> CrawlJob:
        """Run a job over ``pages`` (an async generator, closed when the job ends or is
        cancelled), each page kept as ``read`` gives it; ``conclude`` makes the value read once it
        has ended, if not its text. Refused when ``owner`` runs the most jobs at once (``pages``
        is then never started: it holds nothing to close)."""
        running = [j for j in self._jobs.values() if j.owner == owner and j.running]
        if len(running) >= MAX_RUNNING_PER_OWNER:
            ids = ", ".join(j.id for j in running)
            raise ToolFailure(
                f"{len(running)} of your crawls and maps are running ({ids}), the most at once. "
                "Wait for one (smooth_task_status) or stop one (smooth_task_cancel)."
            )
        job = CrawlJob(kind, owner, url, limit, concluded=conclude is not None)
        self._jobs[job.id] = job
        self.sessions.claim(job.id, owner, session=False)
        job.runner = asyncio.create_task(self._run(job, pages, read, conclude), name=f"smooth-{job.id}")
        self._forget_beyond_kept(owner)
        return job

    async def _run(
        self,
        job: CrawlJob,
        pages: AsyncGenerator[Any, None],
        read: Callable[[Any], PageRead],
        conclude: Callable[[list[PageRead]], Any] | None,
    ) -> None:
        try:
            async with contextlib.aclosing(pages) as finishing:
                async for page in finishing:
                    made = read(page)
                    job.add(made)
                    await job.tell(made)
            job.status = "done"
        except asyncio.CancelledError:
            job.status = "cancelled"
            raise
        except (SmoothError, ValueError) as exc:
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        except Exception:
            log.exception("%s failed", job.id)
            job.status, job.error = "failed", "an internal error of this server (its log has the details)"
        finally:
            if conclude is not None:
                job.final = conclude(job.reads)
            job.touch()  # its pages are kept a TTL from its end
            self.sessions.ended(job.id)  # still its owner's to read, among their ended ids

    async def wait(self, job: CrawlJob, seconds: float, progress: ProgressSink) -> None:
        """Wait up to ``seconds`` for ``job`` to end, telling ``progress`` of each page; a call
        cancelled while it waits cancels the job (nobody is left to read it)."""
        assert job.runner is not None
        job.busy += 1
        job.listeners.append(progress)
        try:
            await asyncio.wait({job.runner}, timeout=seconds)
        except asyncio.CancelledError:
            job.runner.cancel()  # not awaited: the runner closes its pages on its own
            raise
        finally:
            job.busy -= 1
            job.listeners.remove(progress)
            job.touch()

    def get(self, job_id: str, owner: str) -> CrawlJob:
        """The job ``job_id`` of ``owner`` (marked as used); a failure when it is not kept."""
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            minutes = f"{self.ttl / 60:g}"
            raise ToolFailure(
                f"{job_id} is not kept here: a crawl, map or batch of pages is kept {minutes} minutes "
                "after it was last read, in the server process that ran it. Start it again if you "
                "still need its pages."
            )
        job.touch()
        return job

    async def cancel(self, job_id: str, owner: str) -> bool:
        """Stop a job; True if it was running."""
        job = self.get(job_id, owner)
        if not job.running or job.runner is None:
            return False
        await cancel_and_wait(job.runner)
        return True

    def _forget_beyond_kept(self, owner: str) -> None:
        ended = [j for j in self._jobs.values() if j.owner == owner and not j.running]
        for job in sorted(ended, key=lambda j: j.last_used)[: max(0, len(ended) - KEPT_PER_OWNER)]:
            del self._jobs[job.id]

    async def reap(self) -> list[str]:
        """Cancel the running jobs nobody has looked at for the TTL, forget the ended ones; the
        ids of both."""
        now = time.monotonic()
        idle = [j for j in self._jobs.values() if not j.busy and now - j.last_used > self.ttl]
        for job in idle:
            if job.running and job.runner is not None:
                log.info("cancelling %s: nobody read it for %.0f s", job.id, now - job.last_used)
                await cancel_and_wait(job.runner)
                job.error = f"cancelled after {self.ttl:g} s with nobody reading it"
                job.touch()
            else:
                self._jobs.pop(job.id, None)
        return [job.id for job in idle]

    def start_reaper(self, interval: float | None = None) -> None:
        self._reaper.start(interval or min(30.0, self.ttl / 4))

    async def close_all(self) -> None:
        """Stop the reaper and cancel every running job, all at once; forget them all."""
        await self._reaper.stop()
        runners = [j.runner for j in self._jobs.values() if j.running and j.runner is not None]
        await asyncio.gather(*(cancel_and_wait(r) for r in runners))
        self._jobs.clear()
