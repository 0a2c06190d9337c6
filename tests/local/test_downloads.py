"""What a task leaves behind, on the real local server: the files its page downloads, its
screenshots and PDFs (one zip at ``downloads_url``), its video (``recording_url``), each bounded
and deleted with the task; and ``additional_tools`` checked when the task is submitted."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings, wait_for_status

WEBM_MAGIC = b"\x1a\x45\xdf\xa3"  # EBML, the container WebM is


def script(*steps: dict[str, Any]) -> str:
    return "script:" + json.dumps(list(steps))


def click(selector: str) -> dict[str, Any]:
    return {"action": "evaluate_js", "js": f"document.querySelector({selector!r}).click()"}


def download(selector: str) -> dict[str, Any]:
    """Click a link as a download link (``<a download>``): unlike a navigation that turns into a
    download, it is not cancelled by the next click, so links clicked back to back all download
    however slowly the server answers the first."""
    js = f"const link = document.querySelector({selector!r}); link.setAttribute('download', ''); link.click()"
    return {"action": "evaluate_js", "js": js}


def submit(api: httpx2.Client, text: str, **fields: Any) -> str:
    response = api.post("/task", json={"task": text, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["r"]["id"])


def finished(api: httpx2.Client, task_id: str) -> dict[str, Any]:
    """The final task, as the official SDK asks for it once done (with ``downloads=true``)."""
    wait_for_status(api, task_id, timeout=60)
    return dict(api.get(f"/task/{task_id}", params={"downloads": "true"}).json()["r"])


def archive_of(url: str) -> zipfile.ZipFile:
    # Fetched as a person would: the link alone, no API key.
    response = httpx2.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def download_events(task: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["payload"] for e in task["events"] if e["name"] == "download"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadedServer]:
    with ThreadedServer(make_settings(tmp_path, max_download_bytes=200_000)) as running:
        yield running


@pytest.fixture
def client(server: ThreadedServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as http:
        yield http


def test_a_tasks_downloads_screenshot_and_pdf_come_as_one_zip(
    client: httpx2.Client, server: ThreadedServer, site: SiteServer
) -> None:
    task_id = submit(
        client,
        script(
            {"action": "goto", "url": site.url("files/index.html")},
            click("#report"),
            {"action": "wait_for_downloads", "count": 1},  # a click after would cancel it
            click("#make"),  # a file the page makes itself (a blob)
            {"action": "wait_for_downloads", "count": 2, "until": "ended"},
            {"action": "screenshot"},
            {"action": "print_page"},
            {"action": "return", "output": "ok"},
        ),
        additional_tools={"screenshot": {"full_page": True}, "print_page": None},
        enable_recording=False,
    )
    running = client.get(f"/task/{task_id}", params={"downloads": "true"}).json()["r"]
    assert running["downloads_url"] is None  # not before the task ends
    task = finished(client, task_id)
    assert task["status"] == "done", task["output"]
    url = task["downloads_url"]
    assert url.startswith(
        f"http://127.0.0.1:{server.settings.port}/task-files/{task_id}/downloads.zip?token="
    )
    with archive_of(url) as archive:
        names = sorted(archive.namelist())
        assert names == ["page-1.pdf", "report.csv", "screenshot-1.png", "summary.txt"]
        assert archive.read("report.csv") == b"file report.csv\n"
        assert archive.read("summary.txt") == b"summary made in the page\n"
        assert archive.read("screenshot-1.png").startswith(b"\x89PNG\r\n\x1a\n")
        assert archive.read("page-1.pdf").startswith(b"%PDF")
    saved = {e["file"] for e in download_events(task) if e["saved"]}
    assert saved == {"report.csv", "summary.txt"}
    # Without ?downloads=true the link is not given (as the service does); recording was off.
    plain = client.get(f"/task/{task_id}").json()["r"]
    assert plain["downloads_url"] is None
    assert plain["recording_url"] == ""
    # The token is what opens it.
    assert httpx2.get(url.split("?")[0] + "?token=wrong", timeout=10).status_code == 404
    assert httpx2.get(url.split("?")[0], timeout=10).status_code == 404


def test_downloads_past_the_bound_are_refused_and_said(client: httpx2.Client, site: SiteServer) -> None:
    # The bound is 200,000 bytes: the declared 300 kB archive and the streamed one (no length
    # declared, measured once it arrived) are refused; small files before and after are kept.
    # Each is clicked once the one before has ended: Chromium now and then loses a download that
    # begins while another is being cancelled (no event, at times not even its request; 3 to 9
    # in 60 rounds of four back-to-back cancelled downloads in plain Playwright, none when each
    # began after the cancel before it had ended), which is Chromium's to fix, not this test's.
    steps: list[dict[str, Any]] = [{"action": "goto", "url": site.url("files/index.html")}]
    for started, link in enumerate(("#report", "#archive", "#stream", "#notes"), 1):
        steps += [download(link), {"action": "wait_for_downloads", "count": started, "until": "ended"}]
    task_id = submit(client, script(*steps, {"action": "return", "output": "ok"}), enable_recording=False)
    task = finished(client, task_id)
    assert task["status"] == "done", task["output"]
    events = {e["file"]: e for e in download_events(task)}
    assert events["report.csv"]["saved"] is True
    assert events["notes.txt"]["saved"] is True
    for refused in ("archive.bin", "stream.bin"):
        assert events[refused]["saved"] is False
        assert "max_download_bytes" in events[refused]["reason"]
    with archive_of(task["downloads_url"]) as archive:
        assert sorted(archive.namelist()) == ["notes.txt", "report.csv"]


@pytest.mark.parametrize(
    ("link", "wait", "said"),
    [
        # A second download that never starts.
        ("#report", {"count": 2, "seconds": 1}, "1 of 2 downloads started within 1 s (started: report.csv)."),
        # One that starts and takes some 3 s to arrive (200 kB at 64 KiB a second).
        (
            "#slow",
            {"count": 1, "until": "ended", "seconds": 0.5},
            "Downloads still arriving after 0.5 s: export.csv (1 started: export.csv).",
        ),
    ],
)
def test_a_script_waiting_for_downloads_in_vain_fails_naming_them(
    client: httpx2.Client, site: SiteServer, link: str, wait: dict[str, Any], said: str
) -> None:
    task_id = submit(
        client,
        script(
            {"action": "goto", "url": site.url("files/index.html")},
            download(link),
            {"action": "wait_for_downloads", "count": 1},  # its start, however slow the machine
            {"action": "wait_for_downloads", **wait},
        ),
        enable_recording=False,
    )
    task = finished(client, task_id)
    assert task["status"] == "failed"
    assert said in str(task["output"]), task["output"]


def test_a_full_task_refuses_later_downloads_and_screenshots(tmp_path: Path, site: SiteServer) -> None:
    with (
        ThreadedServer(make_settings(tmp_path, max_download_bytes=20)) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as api,
    ):
        task_id = submit(
            api,
            script(
                {"action": "goto", "url": site.url("files/index.html")},
                click("#report"),  # 16 bytes: kept
                # Kept before the next starts (a click after would cancel it, and one arriving
                # beside it could be measured first).
                {"action": "wait_for_downloads", "count": 1, "until": "ended"},
                click("#notes"),  # 15 more: past the bound
                {"action": "wait_for_downloads", "count": 2},
                {"action": "screenshot", "on_error": "continue"},
                {"action": "return", "from": "last"},
            ),
            additional_tools={"screenshot": None},
            enable_recording=False,
        )
        task = finished(api, task_id)
        assert task["status"] == "done", task["output"]
        assert "max_download_bytes" in task["output"]["error"]
        events = {e["file"]: e for e in download_events(task)}
        assert events["report.csv"]["saved"] is True
        assert events["notes.txt"]["saved"] is False
        with archive_of(task["downloads_url"]) as archive:
            assert archive.namelist() == ["report.csv"]


def test_a_task_without_downloads_says_so(client: httpx2.Client, site: SiteServer) -> None:
    task_id = submit(client, "read it", url=site.url("files/index.html"), enable_recording=False)
    task = finished(client, task_id)
    assert task["status"] == "done"
    assert task["downloads_url"] == ""  # the official SDK's "no file was downloaded"
    assert task["recording_url"] == ""


def test_a_sessions_downloads_are_served_after_it_closes(client: httpx2.Client, site: SiteServer) -> None:
    opened = client.post("/task", json={"task": None, "url": site.url("files/index.html")}).json()["r"]
    session_id = opened["id"]
    answer = client.post(
        f"/task/{session_id}/event",
        json={
            "name": "browser_action",
            "payload": {"name": "evaluate_js", "input": {"js": "document.querySelector('#report').click()"}},
        },
    )
    assert answer.status_code == 200
    deadline = time.monotonic() + 20
    while not download_events(client.get(f"/task/{session_id}").json()["r"]):
        assert time.monotonic() < deadline, "the download never arrived"
        time.sleep(0.05)
    client.post(f"/task/{session_id}/event", json={"name": "session_action", "payload": {"name": "close"}})
    task = finished(client, session_id)
    with archive_of(task["downloads_url"]) as archive:
        assert archive.namelist() == ["report.csv"]
    # Sessions are recorded by default (the API's default for enable_recording).
    video = httpx2.get(task["recording_url"], timeout=30)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/webm"
    assert video.content.startswith(WEBM_MAGIC)


def test_a_recorded_task_serves_its_video(client: httpx2.Client, site: SiteServer) -> None:
    task_id = submit(
        client,
        script(
            {"action": "goto", "url": site.url("files/board.html")},
            {"action": "sleep", "seconds": 0.5},
            {"action": "goto", "url": site.url("files/index.html")},
            {"action": "return", "output": "ok"},
        ),
    )
    running = client.get(f"/task/{task_id}").json()["r"]
    if running["status"] == "running":
        assert running["recording_url"] is None  # not ready yet: the SDK keeps polling
    task = finished(client, task_id)
    assert task["status"] == "done"
    video = httpx2.get(task["recording_url"], timeout=30)
    assert video.status_code == 200
    assert video.content.startswith(WEBM_MAGIC)
    assert len(video.content) > 1000
    assert task["downloads_url"] == ""


def test_without_the_recorder_a_task_still_runs_and_says_why(
    tmp_path: Path, site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Playwright looks for its ffmpeg under its browsers path: an empty one has none (the
    # system Chromium is used, as where Playwright's own browser is absent).
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "no-browsers"))
    with (
        ThreadedServer(make_settings(tmp_path / "data")) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as api,
    ):
        first = finished(api, submit(api, "read it", url=site.url("files/index.html")))
        second = finished(api, submit(api, "read it", url=site.url("files/index.html")))
    for task in (first, second):
        assert task["status"] == "done"
        assert task["recording_url"] == ""
        notes = [e["payload"] for e in task["events"] if e["name"] == "recording"]
        assert notes
        assert notes[0]["recorded"] is False
        assert "ffmpeg" in notes[0]["reason"]


def test_recording_can_be_turned_off_for_the_whole_server(tmp_path: Path, site: SiteServer) -> None:
    with (
        ThreadedServer(make_settings(tmp_path, recording=False)) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as api,
    ):
        task = finished(api, submit(api, "read it", url=site.url("files/index.html"), enable_recording=True))
        assert task["status"] == "done"
        assert task["recording_url"] == ""
        assert not (tmp_path / "task-files" / task["id"]).exists()  # nothing written


def test_files_are_deleted_with_the_task(tmp_path: Path, site: SiteServer) -> None:
    # Kept 3 s: time to look at its files first, however slow the machine.
    settings = make_settings(tmp_path, task_retention=3.0)
    with (
        ThreadedServer(settings) as server,
        httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as api,
    ):
        task_id = submit(
            api,
            script(
                {"action": "goto", "url": site.url("files/index.html")},
                click("#report"),
                {"action": "wait_for_downloads", "count": 1},
                {"action": "return", "output": "ok"},
            ),
        )
        task = finished(api, task_id)
        folder = tmp_path / "task-files" / task_id
        assert sorted(p.name for p in folder.iterdir()) == ["downloads.zip", "recording.webm"]
        assert httpx2.get(task["downloads_url"], timeout=10).status_code == 200
        deadline = time.monotonic() + 20
        while api.get(f"/task/{task_id}").status_code != 404:
            assert time.monotonic() < deadline, "the finished task was never forgotten"
            time.sleep(0.1)
        assert not folder.exists()
        assert httpx2.get(task["downloads_url"], timeout=10).status_code == 404
        assert httpx2.get(task["recording_url"], timeout=10).status_code == 404
        # A task still kept at shutdown loses its files then.
        kept = finished(api, submit(api, "read it", url=site.url("files/index.html")))
        assert (tmp_path / "task-files" / kept["id"]).is_dir()
    assert not (tmp_path / "task-files" / kept["id"]).exists()


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        (
            {"teleport": None},
            "unknown additional tool 'teleport'; the tools are drag_drop, hover, print_page, screenshot",
        ),
        (
            {"screenshot": {"zoom": 2}},
            "additional tool 'screenshot' has no option 'zoom' (options: full_page)",
        ),
        ({"screenshot": {"full_page": "yes"}}, "additional tool 'screenshot': 'full_page' must be a bool"),
        (
            {"print_page": {"landscape": True}},
            "additional tool 'print_page' has no option 'landscape' (options: none)",
        ),
    ],
)
def test_additional_tools_are_checked(client: httpx2.Client, tools: dict[str, Any], message: str) -> None:
    response = client.post(
        "/task", json={"task": "x", "url": "https://example.com/", "additional_tools": tools}
    )
    assert response.status_code == 422
    assert message in json.dumps(response.json()["detail"])


def test_a_tool_the_task_did_not_enable_is_refused(client: httpx2.Client, site: SiteServer) -> None:
    task_id = submit(
        client,
        script({"action": "goto", "url": site.url("files/index.html")}, {"action": "print_page"}),
        additional_tools={"hover": None},
        enable_recording=False,
    )
    task = finished(client, task_id)
    assert task["status"] == "failed"
    assert "print_page tool is not enabled" in task["output"]
    assert task["downloads_url"] == ""


@pytest.mark.filterwarnings("ignore:'session_id' is deprecated:DeprecationWarning")
async def test_the_official_sdk_reads_the_links(server: ThreadedServer, site: SiteServer) -> None:
    from smooth import SmoothAsyncClient

    async with SmoothAsyncClient(api_key=API_KEY, base_url=server.base_url) as sdk:
        handle = await sdk.run(
            script(
                {"action": "goto", "url": site.url("files/index.html")},
                click("#notes"),
                {"action": "wait_for_downloads", "count": 1},
                {"action": "return", "output": "ok"},
            ),
            additional_tools={"screenshot": None},
        )
        assert (await handle.result(timeout=60)).output == "ok"
        downloads = await handle.downloads_url(timeout=30)
        recording = await handle.recording_url(timeout=30)
    with archive_of(downloads) as archive:
        assert archive.namelist() == ["notes.txt"]
    assert httpx2.get(recording, timeout=30).content.startswith(WEBM_MAGIC)
