"""The crawl frontier on its own: order, scope, dedupe, bounds, redirects."""

from __future__ import annotations

import pytest

from smooth_agents.crawl import CrawlScope, Frontier, Landing, UrlGlobs, Visit, path_shape

START = "https://shop.example/"


def frontier(
    limit: int = 100,
    max_depth: int | None = None,
    *,
    same_host: bool = True,
    hosts: tuple[str, ...] = (),
    globs: UrlGlobs | None = None,
) -> Frontier:
    scope = CrawlScope(START, same_host=same_host, hosts=hosts, globs=globs)
    return Frontier(scope, limit=limit, max_depth=max_depth)


def drain(f: Frontier) -> list[Visit]:
    visits = []
    while (visit := f.next()) is not None:
        visits.append(visit)
        f.done(visit, reported=True)
    return visits


def test_breadth_first_and_each_url_once() -> None:
    f = frontier()
    f.offer(START, 0, "start")
    assert f.offer("/b/deep", 2, "link", base=START) is not None
    assert f.offer("/a", 1, "link", base=START) is not None
    assert f.offer("https://SHOP.example/a#x", 1, "link") is None  # the same page
    assert f.offer("/a?utm_source=mail", 1, "link", base=START) is None
    assert [(v.url, v.depth) for v in drain(f)] == [
        (START, 0),
        ("https://shop.example/a", 1),
        ("https://shop.example/b/deep", 2),
    ]


def test_other_hosts_and_excluded_urls_are_never_queued() -> None:
    f = frontier(globs=UrlGlobs.of(exclude=["**/admin/**"]))
    assert f.offer("https://other.example/x", 1, "link") is None
    assert f.offer("https://shop.example/admin/users", 1, "link") is None
    assert f.offer("mailto:a@shop.example", 1, "link") is None
    assert f.offer("https://shop.example/ok", 1, "link") is not None
    free = frontier(same_host=False)
    assert free.offer("https://other.example/x", 1, "link") is not None
    more = frontier(hosts=("cdn.example",))
    assert more.offer("https://cdn.example/x", 1, "link") is not None


def test_the_start_url_is_visited_whatever_the_include_patterns() -> None:
    f = frontier(globs=UrlGlobs.of(include=["**/products/**"]))
    assert f.offer(START, 0, "start") == START
    assert f.offer("https://shop.example/about", 1, "link") is None


def test_depth_and_limit_bound_the_visits() -> None:
    f = frontier(limit=3, max_depth=1)
    f.offer(START, 0, "start")
    assert f.offer("/too/deep", 2, "link", base=START) is None
    for i in range(10):
        f.offer(f"/p/{i}", 1, "link", base=START)
    assert len(drain(f)) == 3
    assert f.exhausted


def test_visits_in_flight_count_against_the_limit() -> None:
    f = frontier(limit=2)
    for i in range(5):
        f.offer(f"/p/{i}", 1, "link", base=START)
    first, second = f.next(), f.next()
    assert first is not None
    assert second is not None
    assert f.next() is None  # two in flight fill the limit
    f.done(first, reported=False)  # merged into another page: it does not count
    assert f.next() is not None


def test_kinds_of_url_take_turns_within_a_depth() -> None:
    # One page linking to fifty calendar days does not push the rest of its level behind them.
    f = frontier()
    for day in range(1, 51):
        f.offer(f"/events?day={day}", 1, "link", base=START)
    f.offer("/products/1-kettle", 1, "link", base=START)
    f.offer("/about", 1, "link", base=START)
    first_three = [v.url for v in drain(f)[:3]]
    assert "https://shop.example/products/1-kettle" in first_three
    assert "https://shop.example/about" in first_three


def test_path_shapes_ignore_numbers() -> None:
    assert path_shape("https://s.example/events?month=2024-01") == path_shape(
        "https://s.example/events?month=2031-12"
    )
    assert path_shape("https://s.example/products/1-a") == path_shape("https://s.example/products/22-b")
    assert path_shape("https://s.example/products/1") != path_shape("https://s.example/category/1")


def test_redirects_are_recorded_where_they_land() -> None:
    f = frontier()
    f.offer("/old", 1, "link", base=START)
    f.offer("/new", 2, "link", base=START)
    f.offer("/older", 1, "link", base=START)
    old = f.next()
    assert old is not None
    assert f.landed(old, "https://shop.example/new#top") == (Landing.NEW, "https://shop.example/new")
    f.done(old, reported=True)
    older = f.next()
    assert older is not None
    assert f.landed(older, "https://shop.example/new") == (Landing.DUPLICATE, "https://shop.example/new")
    f.done(older, reported=False)
    assert f.next() is None  # /new was reached through /old: it is not visited again
    assert f.landed(Visit("https://shop.example/x", 1, "link"), "https://else.example/") == (
        Landing.OUTSIDE,
        "https://else.example/",
    )


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        frontier(limit=0)
