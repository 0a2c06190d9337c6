"""The crawl jobs of the tools' runtime: the idle TTL and closing end them, their pages are each
page's own, and a job is its caller's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from smooth_agents import AsyncSmoothClient
from smooth_agents.agent_tools import CrawlJobs, SessionRegistry, ToolFailure
from smooth_agents.agent_tools.crawl_pages import crawled_data, crawled_markdown
from smooth_agents.crawl.results import PageResult


def nowhere() -> AsyncSmoothClient:
    # The registries never reach the client in these tests.
    return AsyncSmoothClient(api_key="sk-jobs", base_url="http://127.0.0.1:9/api/")


class EndlessSite:
    """Pages forever, one every ``pace`` seconds; ``closed`` once its iterator is closed."""

    def __init__(self, pace: float = 0.01) -> None:
        self.pace = pace
        self.closed = False

    async def pages(self) -> AsyncGenerator[PageResult, None]:
        n = 0
        try:
            while True:
                await asyncio.sleep(self.pace)
                n += 1
                url = f"https://shop.example/p/{n}"
                yield PageResult(
                    url, url, ok=n % 3 != 0, markdown=f"Page {n}", error="HTTP 500" if n % 3 == 0 else None
                )
        finally:
            self.closed = True


async def test_the_idle_ttl_cancels_a_running_job_then_forgets_it() -> None:
    # Idleness is read off each job's last use, moved back here rather than waited for (a
    # short TTL would make "not idle yet" a race with a busy machine).
    jobs = CrawlJobs(SessionRegistry(nowhere()), ttl=60)
    site = EndlessSite()
    job = jobs.start("crawl", "ada", "https://shop.example/", 1000, site.pages(), crawled_data)
    while job.pages == 0:
        await asyncio.sleep(0.01)
    job.last_used -= 59
    assert await jobs.reap() == []  # not idle yet
    job.last_used -= 2
    assert await jobs.reap() == [job.id]
    assert job.status == "cancelled"
    assert site.closed
    assert "nobody reading it" in job.error
    kept = job.pages
    assert kept > 0
    assert jobs.get(job.id, "ada").pages == kept  # its pages so far are still read
    job.last_used -= 61
    await jobs.reap()
    with pytest.raises(ToolFailure, match="is not kept here"):
        jobs.get(job.id, "ada")


async def test_closing_cancels_every_running_job() -> None:
    jobs = CrawlJobs(SessionRegistry(nowhere()), ttl=60)
    sites = [EndlessSite() for _ in range(3)]
    started = [jobs.start("map", "ada", "https://shop.example/", 100, s.pages(), crawled_data) for s in sites]
    await asyncio.sleep(0.05)
    await jobs.close_all()
    assert all(site.closed for site in sites)
    assert {job.status for job in started} == {"cancelled"}
    assert len(jobs) == 0


async def test_each_page_is_its_own_and_a_job_is_its_callers() -> None:
    sessions = SessionRegistry(nowhere())
    jobs = CrawlJobs(sessions, ttl=60)
    numbers = iter(range(1, 100))
    job = jobs.start(
        "crawl",
        "ada",
        "https://shop.example/",
        6,
        EndlessSite().pages(),
        lambda page: crawled_markdown(next(numbers), page),
    )
    while job.pages < 6:
        await asyncio.sleep(0.01)
    text = job.text
    assert "=== Page 3: https://shop.example/p/3 · failed: HTTP 500 ===" in text
    assert "=== Page 4: https://shop.example/p/4 ===\nPage 4\n" in text
    assert job.failed >= 2
    sessions.check_owner(job.id, "ada")
    with pytest.raises(ToolFailure):
        sessions.check_owner(job.id, "bob")
    with pytest.raises(ToolFailure):
        jobs.get(job.id, "bob")
    await jobs.close_all()


async def test_a_caller_runs_a_bounded_number_of_jobs_at_once() -> None:
    jobs = CrawlJobs(SessionRegistry(nowhere()), ttl=60)
    for _ in range(4):
        jobs.start("crawl", "ada", "https://shop.example/", 10, EndlessSite(1).pages(), crawled_data)
    with pytest.raises(ToolFailure, match="the most at once"):
        jobs.start("crawl", "ada", "https://shop.example/", 10, EndlessSite(1).pages(), crawled_data)
    jobs.start("crawl", "bob", "https://shop.example/", 10, EndlessSite(1).pages(), crawled_data)
    await jobs.close_all()
