"""A pool of browsers that live elsewhere: several real Chromium processes reached over CDP, and
Playwright's browser server over its own protocol, driven through the local server's HTTP API.

Each browser is a process of its own (its own temporary profile), as a grid node would be; the
tests see where a session went from the browser itself (its /json/list of pages), never from
the pool's insides."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import playwright
import pytest

from smooth_agents.cli import main as cli_main
from smooth_agents.local import ThreadedServer
from smooth_agents.local.server import free_port
from tests.chromium_nodes import CHROMIUM, ChromiumNode
from tests.chromium_nodes import chromium_nodes as nodes_in
from tests.helpers import API_KEY, SiteServer, act, make_settings, wait_for_status, wait_until

DRIVER = Path(playwright.__file__).parent / "driver"  # its Node.js and its CLI
LAUNCH = ("--browser", "chromium", "--config")

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs the system Chromium")


class LaunchServer:
    """``playwright launch-server`` (Playwright's browser server, run by its Node driver) over
    the system Chromium; its ws endpoint is the line it prints."""

    def __init__(self, folder: Path) -> None:
        config = folder / "launch-server.json"
        config.write_text(
            json.dumps({"executablePath": CHROMIUM, "headless": True, "args": ["--no-sandbox"]})
        )
        self.process = subprocess.Popen(
            [str(DRIVER / "node"), str(DRIVER / "package" / "cli.js"), "launch-server", *LAUNCH, str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.endpoint = self.process.stdout.readline().decode().strip()  # ends when the process does
        assert self.endpoint.startswith("ws://"), "launch-server printed no endpoint"

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the server and its Chromium
            self.process.wait(20)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def chromium_nodes(tmp_path: Path) -> Iterator[Callable[[int], list[ChromiumNode]]]:
    with nodes_in(tmp_path) as start:
        yield start


@contextlib.contextmanager
def pool_server(tmp_path: Path, **settings: Any) -> Iterator[httpx2.Client]:
    options: dict[str, Any] = {"browser_health_interval": 0.3}
    options.update(settings)
    with (
        ThreadedServer(make_settings(tmp_path / "data", **options)) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=60) as api,
    ):
        yield api


def open_on(api: httpx2.Client, url: str) -> httpx2.Response:
    return api.post("/task", json={"task": None, "url": url})


def session_id(response: httpx2.Response) -> str:
    assert response.status_code == 200, response.text
    task_id: str = response.json()["r"]["id"]
    return task_id


def where(nodes: list[ChromiumNode], url: str) -> list[int]:
    """The indexes of the nodes that show ``url``."""
    return [index for index, node in enumerate(nodes) if url in node.pages()]


def test_sessions_spread_by_load_within_each_capacity(
    chromium_nodes: Callable[[int], list[ChromiumNode]], site: SiteServer, tmp_path: Path
) -> None:
    nodes = chromium_nodes(2)
    endpoints = ",".join(node.endpoint for node in nodes)
    with pool_server(tmp_path, browser_cdp_endpoint=endpoints, browser_endpoint_capacity=2) as api:
        urls = [site.url(f"demo/index.html?session={n}") for n in range(4)]
        ids = [session_id(open_on(api, url)) for url in urls]
        placed = [where(nodes, url) for url in urls]
        assert all(len(p) == 1 for p in placed), placed  # each session on exactly one browser
        assert sorted(p[0] for p in placed) == [0, 0, 1, 1]  # two each: the least-loaded first

        # Both browsers hold their capacity: the next one is refused, saying why.
        refused = open_on(api, site.url("demo/index.html?session=extra"))
        assert refused.status_code == 429, refused.text
        detail = refused.json()["detail"]
        assert "full" in detail
        for number, node in enumerate(nodes, start=1):
            assert f"browser {number} (http://127.0.0.1:{node.port})" in detail
            assert "2/2" in detail

        # A session closed on the first browser makes room there, and only there.
        first = placed.index([0])
        closed = act(api, ids[first], "session_action", "close")
        assert closed["code"] == 200
        assert wait_for_status(api, ids[first])["status"] == "done"
        wait_until(lambda: urls[first] not in nodes[0].pages(), 10, "the closed session's page goes")
        again = site.url("demo/index.html?session=again")
        ids.append(session_id(open_on(api, again)))
        assert where(nodes, again) == [0]

        # A task (not a session) is placed the same way: no room is left for it.
        task = api.post("/task", json={"task": "read the page", "url": site.url("demo/index.html")})
        assert task.status_code == 429, task.text


def test_a_killed_browser_fails_its_sessions_and_rejoins_when_it_is_back(
    chromium_nodes: Callable[[int], list[ChromiumNode]], site: SiteServer, tmp_path: Path
) -> None:
    nodes = chromium_nodes(2)
    endpoints = ",".join(node.endpoint for node in nodes)
    with pool_server(tmp_path, browser_cdp_endpoint=endpoints, browser_endpoint_capacity=3) as api:
        urls = [site.url(f"demo/index.html?session={n}") for n in range(4)]
        ids = [session_id(open_on(api, url)) for url in urls]
        on = {
            index: [ids[n] for n, url in enumerate(urls) if where(nodes, url) == [index]] for index in (0, 1)
        }
        assert len(on[0]) == len(on[1]) == 2, on

        port = nodes[0].port
        nodes[0].kill()
        # Its sessions fail, with a reason that names that browser; none is left hanging.
        for task_id in on[0]:
            final = wait_for_status(api, task_id, timeout=30)
            assert final["status"] == "failed"
            assert f"browser 1 (http://127.0.0.1:{port})" in final["output"], final["output"]
            assert "disconnected" in final["output"]
        # The other browser's sessions go on.
        for task_id in on[1]:
            assert api.get(f"/task/{task_id}").status_code == 202
            answer = act(api, task_id, "browser_action", "evaluate_js", {"js": "1 + 1"})
            assert answer["code"] == 200
            assert answer["output"]["output"] == 2

        # New work goes to the survivor, up to its capacity; then a clear refusal.
        survivor = site.url("demo/index.html?session=survivor")
        session_id(open_on(api, survivor))
        assert survivor in nodes[1].pages()
        refused = open_on(api, site.url("demo/index.html?session=refused"))
        assert refused.status_code == 429, refused.text
        detail = refused.json()["detail"]
        assert f"browser 1 (http://127.0.0.1:{port}) out" in detail
        assert f"browser 2 (http://127.0.0.1:{nodes[1].port}) full (3/3)" in detail

        # Back on the same port, it rejoins: new sessions land on it again.
        nodes[0].start()
        assert nodes[0].port == port
        back = site.url("demo/index.html?session=back")
        response = wait_until(
            lambda: (r := open_on(api, back)).status_code == 200 and r, 30, "the restarted browser rejoins"
        )
        session_id(response)
        assert back in nodes[0].pages()
        assert back not in nodes[1].pages()


def test_a_browser_that_stops_answering_is_taken_out_by_its_health_check(
    chromium_nodes: Callable[[int], list[ChromiumNode]], site: SiteServer, tmp_path: Path
) -> None:
    nodes = chromium_nodes(2)
    endpoints = ",".join(node.endpoint for node in nodes)
    with pool_server(tmp_path, browser_cdp_endpoint=endpoints, browser_endpoint_capacity=2) as api:
        urls = [site.url(f"demo/index.html?session={n}") for n in range(2)]
        ids = [session_id(open_on(api, url)) for url in urls]
        stuck = ids[[where(nodes, url) for url in urls].index([0])]
        healthy = ids[1 - ids.index(stuck)]

        nodes[0].signal(signal.SIGSTOP)  # alive, connected, and silent
        try:
            # An action sent to it meanwhile is not waited on forever: the session fails with
            # the health check's reason, naming the browser.
            sent = api.post(
                f"/task/{stuck}/event",
                json={"name": "browser_action", "payload": {"name": "evaluate_js", "input": {"js": "1"}}},
            )
            assert sent.status_code == 200
            final = wait_for_status(api, stuck, timeout=30)
            assert final["status"] == "failed"
            assert f"browser 1 (http://127.0.0.1:{nodes[0].port})" in final["output"]
            assert "failed its health check (no answer within" in final["output"], final["output"]
            # New work goes to the browser that answers (which is then full).
            elsewhere = site.url("demo/index.html?session=elsewhere")
            session_id(open_on(api, elsewhere))
            assert elsewhere in nodes[1].pages()
            assert api.get(f"/task/{healthy}").status_code == 202
            refused = open_on(api, site.url("demo/index.html?session=refused"))
            assert refused.status_code == 429, refused.text
        finally:
            nodes[0].signal(signal.SIGCONT)
        # Answering again, it rejoins, and takes the next session.
        back = site.url("demo/index.html?session=back")
        response = wait_until(
            lambda: (r := open_on(api, back)).status_code == 200 and r, 40, "the resumed browser rejoins"
        )
        session_id(response)
        assert where(nodes, back) == [0]


def test_all_browsers_out_is_answered_503_naming_each(
    chromium_nodes: Callable[[int], list[ChromiumNode]], site: SiteServer, tmp_path: Path
) -> None:
    (node,) = chromium_nodes(1)
    nothing = f"http://127.0.0.1:{free_port()}"  # no browser listens there
    with pool_server(tmp_path, browser_cdp_endpoint=f"{node.endpoint}, {nothing}") as api:
        first = site.url("demo/index.html?session=first")
        session_id(open_on(api, first))  # the unreachable one is out from the start
        assert first in node.pages()
        # A task (not a session) runs there too, to its end.
        task = api.post("/task", json={"task": "read the page", "url": site.url("demo/product.html")})
        assert task.status_code == 200, task.text
        done = wait_for_status(api, task.json()["r"]["id"], timeout=60)
        assert done["status"] == "done", done
        assert "Nimbus 14 Pro" in str(done["output"])
        port = node.port
        node.kill()
        refused = wait_until(
            lambda: (r := open_on(api, site.url("demo/index.html"))).status_code == 503 and r,
            30,
            "every browser is out",
        )
        detail = refused.json()["detail"]
        assert "No browser of the pool is up" in detail
        assert f"browser 1 (http://127.0.0.1:{port}) out" in detail
        assert f"browser 2 ({nothing}) out" in detail
        assert "unreachable" in detail


def test_playwright_browser_servers_as_ws_endpoints(site: SiteServer, tmp_path: Path) -> None:
    servers: list[LaunchServer] = []
    try:
        for n in range(2):
            folder = tmp_path / f"server-{n}"
            folder.mkdir()
            servers.append(LaunchServer(folder))
        endpoints = ",".join(server.endpoint for server in servers)
        with pool_server(tmp_path, browser_ws_endpoint=endpoints, browser_endpoint_capacity=1) as api:
            ids = [session_id(open_on(api, site.url(f"demo/index.html?session={n}"))) for n in range(2)]
            for task_id in ids:
                title = act(api, task_id, "browser_action", "evaluate_js", {"js": "document.title"})
                assert title["code"] == 200, title

            # One session on each server (capacity 1): the first server stops answering, and
            # exactly one session fails, by the health check, naming that server.
            servers[0].signal(signal.SIGSTOP)
            try:
                failed = wait_until(
                    lambda: [t for t in ids if api.get(f"/task/{t}").status_code == 200],
                    30,
                    "a session fails",
                )
                assert len(failed) == 1
                final = wait_for_status(api, failed[0])
                assert final["status"] == "failed"
                shown = servers[0].endpoint.rsplit("/", 1)[0]
                assert f"browser 1 ({shown}), failed its health check" in final["output"], final["output"]
                # The server's secret path is not repeated in the reason.
                assert servers[0].endpoint.rsplit("/", 1)[1] not in final["output"]
                survivor = next(t for t in ids if t not in failed)
                answer = act(api, survivor, "browser_action", "evaluate_js", {"js": "2 * 3"})
                assert answer["output"]["output"] == 6
                # The other server is full and the first is out: refused, saying so.
                refused = open_on(api, site.url("demo/index.html?session=refused"))
                assert refused.status_code == 429, refused.text
            finally:
                servers[0].signal(signal.SIGCONT)

            # Answering again, the first server rejoins and takes the next session.
            back = wait_until(
                lambda: (
                    (r := open_on(api, site.url("demo/index.html?session=back"))).status_code == 200 and r
                ),
                30,
                "the resumed server rejoins",
            )
            fresh = session_id(back)
            answer = act(api, fresh, "browser_action", "evaluate_js", {"js": "location.search"})
            assert answer["output"]["output"] == "?session=back"

            # Killed outright, the second server's session fails at once as disconnected.
            servers[1].kill()
            final = wait_for_status(api, survivor, timeout=30)
            assert final["status"] == "failed"
            shown = servers[1].endpoint.rsplit("/", 1)[0]
            assert f"browser 2 ({shown}), disconnected" in final["output"], final["output"]
            assert api.get(f"/task/{fresh}").status_code == 202
    finally:
        for server in servers:
            server.kill()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            ["--browser-cdp-endpoint", "http://127.0.0.1:9222,,http://127.0.0.1:9223"],
            "--browser-cdp-endpoint: an empty item is not an endpoint",
        ),
        (
            ["--browser-ws-endpoint", "http://127.0.0.1:3000"],
            "--browser-ws-endpoint: 'http://127.0.0.1:3000' is not an endpoint",
        ),
        (
            ["--browser-endpoint-capacity", "0", "--browser-cdp-endpoint", "ws://127.0.0.1:1"],
            "browser_endpoint_capacity must be at least 1",
        ),
    ],
)
def test_endpoints_that_are_not_urls_are_refused_at_start(
    flags: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["local", "serve", "--data-dir", str(tmp_path), *flags]) == 2
    assert said in capsys.readouterr().err
