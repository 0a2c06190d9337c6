"""The additional tools a task enables (screenshot, print_page, drag_drop), driven by a scripted
chat model through the local server's model agent on a real Chromium; what they make lands in
the task's downloads with the files the page downloaded, served as one zip after the task, the
video at recording_url; and the LangChain tool's result carries both links."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_tools import SmoothToolkit
from langchain_tools.scripted import ScriptedChatModel, Step
from smooth_agents import AsyncSmoothClient, SmoothClient
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer, make_settings
from tests.langchain.scripting import call, call_with, fresh_answers, last_state, ref_of

WEBM_MAGIC = b"\x1a\x45\xdf\xa3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALL_TOOLS = {"screenshot": {"full_page": True}, "print_page": None, "drag_drop": None}


def answers(messages: Sequence[BaseMessage], name: str) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage) and m.name == name]


def moves(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    found = re.search(r"Moves: [^\n]*", last_state(messages))
    return {"answer_json": found.group(0) if found else "no moves seen"}


def board_work() -> list[Step]:
    """Download the report, take a whole-page screenshot, print the page, then move the card
    on the board to Done and answer with what the board says."""
    return [
        call_with("click", lambda m: {"ref": ref_of(m, "link", "Download the quarterly report")}),
        call("screenshot"),
        call("print_page"),
        call("goto", url=BOARD_URL[0]),
        call_with(
            "drag_drop",
            lambda m: {
                "source_ref": ref_of(m, "button", "Pay the invoice"),
                "target_ref": ref_of(m, "button", "Done"),
            },
        ),
        call_with("finish", moves),
    ]


BOARD_URL: list[str] = []  # set once the site runs (the steps read it when called)


@pytest.fixture
def board(site: SiteServer) -> str:
    BOARD_URL[:] = [site.url("files/board.html")]
    return BOARD_URL[0]


def serve(tmp: Path, model: ScriptedChatModel, **settings: Any) -> ThreadedServer:
    return ThreadedServer(make_settings(tmp, model=model, **settings))


def archive(url: str) -> zipfile.ZipFile:
    response = httpx2.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return zipfile.ZipFile(io.BytesIO(response.content))


async def test_screenshot_print_and_drag_land_in_the_downloads(
    tmp_path: Path, site: SiteServer, board: str
) -> None:
    model = ScriptedChatModel(steps=board_work())
    with serve(tmp_path, model) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Get the report, keep a picture and a PDF of the page, then file the invoice card as done",
                url=site.url("files/index.html"),
                additional_tools=ALL_TOOLS,
            )
            result = await handle.result(timeout=90)
            task = await client.get_task(handle.id, downloads=True)
        # The drag moved the card: the page's own script saw the drop.
        assert result.output == "Moves: Pay the invoice -> Done"
        seen = model.seen[-1]
        assert answers(seen, "screenshot")[0].content == "Saved screenshot-1.png in the task's downloads."
        assert answers(seen, "print_page")[0].content == "Saved page-1.pdf in the task's downloads."
        assert "Moves: Pay the invoice -> Done" in str(answers(seen, "drag_drop")[0].content)
        assert task.downloads_url
        with archive(task.downloads_url) as files:
            assert sorted(files.namelist()) == ["page-1.pdf", "report.csv", "screenshot-1.png"]
            assert files.read("report.csv") == b"file report.csv\n"
            assert files.read("screenshot-1.png").startswith(PNG_MAGIC)
            assert files.read("page-1.pdf").startswith(b"%PDF")
        assert result.recording_url
        video = httpx2.get(result.recording_url, timeout=30)
        assert video.headers["content-type"] == "video/webm"
        assert video.content.startswith(WEBM_MAGIC)
    # Each tool was one step of the task, shown to its watchers.
    steps = [e.payload["name"] for e in server_events(task)]
    assert steps == ["click", "screenshot", "print_page", "goto", "drag_drop"]


def server_events(task: Any) -> list[Any]:
    return [e for e in task.events or () if e.name == "browser_action"]


async def test_a_model_that_reads_images_is_shown_the_screenshot(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[call("screenshot", full_page=False), call("finish", answer_json="seen")],
        profile={"image_tool_message": True},
    )
    with serve(tmp_path, model) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Look at the page", url=site.url("files/index.html"), additional_tools={"screenshot": None}
            )
            assert (await handle.result(timeout=60)).output == "seen"
    content = answers(model.seen[-1], "screenshot")[0].content
    assert isinstance(content, list)
    text, image = content
    assert isinstance(text, dict)
    assert isinstance(image, dict)
    assert text["text"] == "Saved screenshot-1.png in the task's downloads."
    assert image["type"] == "image"
    assert image["mime_type"] == "image/png"
    assert base64.b64decode(image["base64"]).startswith(PNG_MAGIC)


async def test_a_model_that_reads_images_may_look_at_a_page_the_task_keeps_no_screenshots_of(
    tmp_path: Path, site: SiteServer
) -> None:
    model = ScriptedChatModel(
        steps=[call("look"), call("finish", answer_json="seen")], profile={"image_tool_message": True}
    )
    with serve(tmp_path, model) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Look at the page", url=site.url("files/index.html"), enable_recording=False
            )
            assert (await handle.result(timeout=60)).output == "seen"
            task = await client.get_task(handle.id, downloads=True)
    content = answers(model.seen[-1], "look")[0].content
    assert isinstance(content, list)
    image = content[-1]
    assert isinstance(image, dict)
    assert image["mime_type"] == "image/png"
    assert base64.b64decode(image["base64"]).startswith(PNG_MAGIC)
    assert task.downloads_url == ""  # a look keeps nothing
    assert [e.payload["name"] for e in server_events(task)] == ["look"]


async def test_tools_the_task_did_not_enable_are_not_offered(tmp_path: Path, site: SiteServer) -> None:
    model = ScriptedChatModel(
        steps=[
            call("print_page"),
            lambda m: AIMessage(str(answers(m, "print_page")[0].content)),
        ]
    )
    with serve(tmp_path, model) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run("Print it", url=site.url("files/index.html"), enable_recording=False)
            result = await handle.result(timeout=60)
            task = await client.get_task(handle.id, downloads=True)
    assert "print_page is not a valid tool" in str(result.output)
    assert "hover" in str(result.output)  # hover is offered to every task
    assert "look" not in str(result.output)  # a model that reads no images is shown none
    assert task.downloads_url == ""  # nothing was made


async def test_a_screenshot_past_the_bound_is_refused_and_the_model_told(
    tmp_path: Path, site: SiteServer
) -> None:
    model = ScriptedChatModel(
        steps=[
            call_with("click", lambda m: {"ref": ref_of(m, "link", "Download the meeting notes")}),
            call("screenshot"),
            lambda m: AIMessage(str(answers(m, "screenshot")[0].content)),
        ]
    )
    with serve(tmp_path, model, max_download_bytes=1000) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Notes and a picture",
                url=site.url("files/index.html"),
                additional_tools={"screenshot": None},
                enable_recording=False,
            )
            result = await handle.result(timeout=60)
            task = await client.get_task(handle.id, downloads=True)
        assert str(result.output).startswith("Failed: Not saved:")
        assert "max_download_bytes" in str(result.output)
        assert task.downloads_url
        with archive(task.downloads_url) as files:
            assert files.namelist() == ["notes.txt"]


@pytest.fixture
def toolkit_on(tmp_path: Path, site: SiteServer) -> Iterator[tuple[SmoothToolkit, ScriptedChatModel]]:
    model = ScriptedChatModel(
        steps=[
            call_with("click", lambda m: {"ref": ref_of(m, "link", "Download the meeting notes")}),
            call("finish", answer_json="notes downloaded"),
        ]
    )
    with serve(tmp_path, model) as server, SmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
        toolkit = SmoothToolkit(client=client)
        yield toolkit, model
        toolkit.close()


def test_the_langchain_browse_result_carries_the_links(
    toolkit_on: tuple[SmoothToolkit, ScriptedChatModel], site: SiteServer
) -> None:
    toolkit, _ = toolkit_on
    browse = next(t for t in toolkit.get_tools() if t.name == "smooth_browse")
    message = browse.invoke(
        {
            "type": "tool_call",
            "id": "call-1",
            "name": "smooth_browse",
            "args": {"task": "Download the meeting notes", "url": site.url("files/index.html")},
        }
    )
    artifact = message.artifact
    assert artifact["status"] == "done"
    assert artifact["output"] == "notes downloaded"
    # The text a model reads names both links; the structured result has them.
    assert f"downloads (zip): {artifact['downloads_url']}" in message.content
    assert f"recording: {artifact['recording_url']}" in message.content
    with archive(artifact["downloads_url"]) as files:
        assert files.namelist() == ["notes.txt"]
    assert httpx2.get(artifact["recording_url"], timeout=30).content.startswith(WEBM_MAGIC)
    # smooth_task_status says the same later.
    status = next(t for t in toolkit.get_tools() if t.name == "smooth_task_status")
    later = status.invoke(
        {
            "type": "tool_call",
            "id": "call-2",
            "name": "smooth_task_status",
            "args": {"task_id": artifact["task_id"]},
        }
    )
    assert later.artifact["downloads_url"] == artifact["downloads_url"]
    assert later.artifact["recording_url"] == artifact["recording_url"]
    assert json.loads(json.dumps(later.artifact))  # plain JSON


async def test_the_model_is_told_when_a_click_starts_and_finishes_a_download(
    tmp_path: Path, site: SiteServer
) -> None:
    # A quick file is told finished in the state answering the click; a slow one (three seconds)
    # is told started there, and finished in a later state (the model looks again every second).
    def look_later(messages: Sequence[BaseMessage]) -> AIMessage:
        time.sleep(1)  # a model thinking (chat models run on a worker thread: the task goes on)
        return call("page_state")(messages)

    model = ScriptedChatModel(
        steps=[
            call_with("click", lambda m: {"ref": ref_of(m, "link", "Download the quarterly report")}),
            call_with("click", lambda m: {"ref": ref_of(m, "link", "Download the slow export")}),
            *[look_later for _ in range(6)],
            call("finish", answer_json="downloaded"),
        ]
    )
    with serve(tmp_path, model) as server:
        async with AsyncSmoothClient(api_key=API_KEY, base_url=server.base_url) as client:
            handle = await client.run(
                "Download the report and the export", url=site.url("files/index.html"), enable_recording=False
            )
            assert (await handle.result(timeout=90)).output == "downloaded"
    # What each answer said when it was new (later turns show it shortened).
    quick, slow = (str(m.content) for m in fresh_answers(model.seen, "click"))
    assert "Downloads: report.csv: download finished, 16 bytes, kept in the task's downloads\n" in quick
    assert "Downloads: export.csv: download started\n" in slow
    assert "export.csv: download" not in quick
    later = "\n".join(str(m.content) for m in fresh_answers(model.seen, "page_state"))
    assert "export.csv: download finished, 200,000 bytes, kept in the task's downloads" in later
    assert "report.csv: download" not in later  # each is told once
