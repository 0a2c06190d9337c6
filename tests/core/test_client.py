"""Every public method of AsyncSmoothClient against the local server and a real Chromium."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from smooth_agents import (
    ActionError,
    AsyncSmoothClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    SessionClosedError,
    SmoothError,
    TaskFailedError,
    TaskTimeoutError,
    UnprocessableEntityError,
)
from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, FILES_CHOSEN_JS, SiteServer


class Product(BaseModel):
    name: str
    price: float


def script(*steps: dict[str, Any]) -> str:
    return "script:" + json.dumps(list(steps))


async def test_session_actions(client: AsyncSmoothClient, site: SiteServer) -> None:
    async with client.session(url=site.url("demo/index.html")) as session:
        assert session.live_url
        assert "/live/" in session.live_url
        goto = await session.goto(site.url("demo/product.html"))
        assert goto.output["url"] == site.url("demo/product.html")
        title = await session.evaluate_js("document.title")
        assert title.output == "Nimbus 14 Pro Laptop | Demo Store"
        assert title.duration >= 0
        added = await session.evaluate_js("(args) => args.a * args.b", {"a": 6, "b": 7})
        assert added.output == 42
        product = await session.extract(Product, prompt="the product")
        assert product.output == Product(name="Nimbus 14 Pro Laptop", price=1299.0)
        as_dict = await session.extract({"type": "object", "properties": {"price": {"type": "number"}}})
        assert as_dict.output == {"price": 1299.0}
        summary = await session.run_task("read this page")
        assert summary.output.startswith("# ")
        structured = await session.run_task("get the product", response_model=Product)
        assert isinstance(structured.output, Product)
    assert session.closed
    with pytest.raises(SessionClosedError, match="closed"):
        await session.evaluate_js("1")
    remote = await client.get_task(session.id)
    assert remote.status == "done"


async def test_failed_actions_raise_with_the_remote_message(
    client: AsyncSmoothClient, site: SiteServer
) -> None:
    async with client.session() as session:
        with pytest.raises(ActionError, match="kaboom"):
            await session.evaluate_js("throw new Error('kaboom')")
        with pytest.raises(ActionError, match="only http and https"):
            await session.goto("file:///etc/passwd")
        with pytest.raises(ValueError, match="Invalid JSON schema"):
            await session.extract({"type": 12})  # refused before anything is sent
        assert (await session.evaluate_js("'alive'")).output == "alive"


async def test_actions_on_a_session_closed_elsewhere_raise_session_closed(client: AsyncSmoothClient) -> None:
    session = await client.session()
    assert await client.cancel_task(session.id) is True
    with pytest.raises(SessionClosedError):
        await session.evaluate_js("1")
    await session.close()  # closing again is harmless


async def test_run_and_result_with_a_model_class(client: AsyncSmoothClient, site: SiteServer) -> None:
    handle = await client.run("product", url=site.url("demo/product.html"), response_model=Product)
    assert handle.live_url
    result = await handle.result(timeout=30)
    assert result.status == "done"
    assert result.output == Product(name="Nimbus 14 Pro Laptop", price=1299.0)


async def test_failed_task_raises_task_failed(client: AsyncSmoothClient) -> None:
    handle = await client.run("Find the cheapest flight to Lisbon")
    with pytest.raises(TaskFailedError, match="url") as failure:
        await handle.result(timeout=30)
    assert failure.value.status == "failed"
    # The reason names what a Python caller has: run's response_model, a session's methods, and
    # the configuration every surface shares (no other surface's tools or flags).
    reason = str(failure.value.output)
    for name in ("`url`", "`response_model`", "`goto`", "`extract`", "`evaluate_js`", "SMOOTH_LOCAL_MODEL"):
        assert name in reason, name
    assert "smooth_" not in reason
    assert "smooth-mcp" not in reason


async def test_result_timeout_leaves_the_task_running(client: AsyncSmoothClient) -> None:
    handle = await client.run(script({"action": "sleep", "seconds": 30}))
    with pytest.raises(TaskTimeoutError, match="still"):
        await handle.result(timeout=0.3)
    assert (await client.get_task(handle.id)).status in ("waiting", "running")  # not over
    assert await handle.cancel() is True
    assert await handle.cancel() is False


async def test_cancelling_the_awaiting_coroutine_cancels_the_remote_task(client: AsyncSmoothClient) -> None:
    handle = await client.run(script({"action": "sleep", "seconds": 30}))
    waiter = asyncio.create_task(handle.result())
    await asyncio.sleep(0.3)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (await client.get_task(handle.id)).status == "cancelled"


async def test_updates_report_status_live_url_and_events(client: AsyncSmoothClient, site: SiteServer) -> None:
    steps = script(
        {"action": "goto", "url": site.url("demo/index.html")},
        {"action": "tool", "name": "echo", "input": {"text": "hi"}},
        {"action": "return", "from": "last"},
    )

    async def echo(text: str) -> str:
        """Say it back."""
        return text.upper()

    handle = await client.run(steps, custom_tools=[echo])
    seen = [update async for update in handle.updates()]
    assert seen[-1].status == "done"
    assert any(u.live_url for u in seen)
    assert [u.event.name for u in seen if u.event] == ["tool_call"]
    assert (await handle.result()).output == "HI"
    assert await handle.wait_live_url() is not None


async def test_get_list_and_cancel_tasks(client: AsyncSmoothClient) -> None:
    session = await client.session()
    listed = await client.list_tasks(limit=50)
    assert session.id in [t.id for t in listed]
    assert (await client.get_task(session.id)).status == "running"
    with pytest.raises(NotFoundError):
        await client.get_task("task_missing")
    assert await client.cancel_task(session.id) is True
    assert await client.cancel_task(session.id) is False
    await session.close()


async def test_task_handle_by_id(client: AsyncSmoothClient, site: SiteServer) -> None:
    started = await client.run("read", url=site.url("demo/article.html"))
    again = client.task(started.id)
    assert (await again.result(timeout=30)).output.startswith("# ")


async def test_a_fresh_client_connects_before_following_a_task_by_id(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as first:
        started = await first.run("read", url=site.url("demo/article.html"))
    fresh = AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url)
    try:
        with pytest.raises(SmoothError, match=r"connect\(\)"):
            fresh.task(started.id)
        await fresh.connect()
        await fresh.connect()  # safe to repeat
        assert (await fresh.task(started.id).result(timeout=30)).output.startswith("# ")
    finally:
        await fresh.close()


async def test_profiles(client: AsyncSmoothClient, site: SiteServer) -> None:
    profile = await client.create_profile("core-profile")
    with pytest.raises(ConflictError):
        await client.create_profile("core-profile")
    assert "core-profile" in [p.id for p in await client.list_profiles()]
    async with client.session(profile_id=profile.id, url=site.url("cookies.html")) as session:
        assert (await session.evaluate_js("localStorage.getItem('visits')")).output == "1"
    async with client.session(profile_id=profile.id, url=site.url("cookies.html")) as session:
        assert (await session.evaluate_js("localStorage.getItem('visits')")).output == "2"
    await client.delete_profile(profile.id)
    with pytest.raises(NotFoundError):
        await client.delete_profile(profile.id)


async def test_files_from_path_file_object_and_bytes(
    client: AsyncSmoothClient, site: SiteServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("from a path")
    from_path = await client.upload_file(path, purpose="notes")
    with path.open("rb") as handle:
        from_object = await client.upload_file(handle, name="copy.txt")
    from_bytes = await client.upload_file(b"raw", name="raw.txt")
    assert len({from_path.id, from_object.id, from_bytes.id}) == 3
    steps = script(
        {"action": "goto", "url": site.url("upload.html")},
        {"action": "attach_files", "selector": "#doc", "file_ids": [from_path.id]},
        {"action": "evaluate_js", "js": FILES_CHOSEN_JS},
    )
    result = await (await client.run(steps, files=[from_path.id])).result(timeout=30)
    assert result.output == "notes.txt:from a path"
    for uploaded in (from_path, from_object, from_bytes):
        await client.delete_file(uploaded.id)
    with pytest.raises(NotFoundError):
        await client.delete_file(from_path.id)
    with pytest.raises(ValueError, match="name"):
        await client.upload_file(b"raw")


async def test_extensions(client: AsyncSmoothClient) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("manifest.json", '{"manifest_version": 3, "name": "x", "version": "1"}')
    extension = await client.upload_extension(archive.getvalue(), name="x.zip")
    assert extension.id in [e.id for e in await client.list_extensions()]
    await client.delete_extension(extension.id)
    with pytest.raises(BadRequestError, match="zip"):
        await client.upload_extension(b"not a zip", name="y.zip")


async def test_validation_errors_are_typed(client: AsyncSmoothClient) -> None:
    with pytest.raises(UnprocessableEntityError, match="max_steps"):
        await client.run("x", max_steps=1)


async def test_wrong_key_is_an_authentication_error_without_the_key(local_server: ThreadedServer) -> None:
    async with AsyncSmoothClient(api_key="sk-wrong-secret", base_url=local_server.base_url) as wrong:
        with pytest.raises(AuthenticationError) as failure:
            await wrong.list_tasks()
    assert "sk-wrong-secret" not in str(failure.value)
    assert "sk-wrong-secret" not in repr(wrong)
    assert "sk-wrong-secret" not in repr(wrong.config)


async def test_embedded_local_server_when_no_key(
    monkeypatch: pytest.MonkeyPatch, site: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY", "SMOOTH_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("smooth_agents.client._notice_shown", False)
    async with AsyncSmoothClient() as embedded:
        assert embedded.embedded
        async with embedded.session(url=site.url("demo/table.html")) as session:
            title = await session.evaluate_js("document.querySelector('h1').textContent")
            assert "Nordic" in title.output
    assert "embedded local Smooth server" in capsys.readouterr().err


async def test_closing_the_client_wakes_whoever_waits(local_server: ThreadedServer) -> None:
    client = AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url)
    handle = await client.run(script({"action": "sleep", "seconds": 30}))
    waiter = asyncio.create_task(handle.result())
    updates: list[Any] = []

    async def follow() -> None:
        updates.extend([u async for u in handle.updates()])

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.3)
    await client.close()
    _done, pending = await asyncio.wait({waiter, follower}, timeout=5)
    assert not pending
    with pytest.raises(SessionClosedError, match="stopped following"):
        waiter.result()
    async with AsyncSmoothClient(api_key=API_KEY, base_url=local_server.base_url) as other:
        assert await other.cancel_task(handle.id) is True  # close() left the remote task alone


def test_a_forgotten_blocking_client_does_not_hang_the_exit(local_server: ThreadedServer) -> None:
    import subprocess
    import sys

    program = (
        "from smooth_agents import SmoothClient\n"
        f"client = SmoothClient(api_key={API_KEY!r}, base_url={local_server.base_url!r})\n"
        "session = client.session()\n"
        "print(session.evaluate_js('6 * 7').output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
