"""SmoothClient: the blocking facade, the same public names, usable inside a running loop."""

from __future__ import annotations

import asyncio
import inspect
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from pydantic import BaseModel

from smooth_agents import (
    ActionError,
    AsyncSession,
    AsyncSmoothClient,
    AsyncTaskHandle,
    Session,
    SmoothClient,
    TaskHandle,
)
from smooth_agents.local import ThreadedServer
from tests.faults import Fault, FaultInjector
from tests.helpers import API_KEY, AppServer, SiteServer, wait_until


class Product(BaseModel):
    name: str
    price: float


def public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(SmoothClient, AsyncSmoothClient), (TaskHandle, AsyncTaskHandle), (Session, AsyncSession)],
)
def test_sync_and_async_expose_the_same_public_names(sync_cls: type, async_cls: type) -> None:
    # Nothing more: what adapters need of the loop is sync.ClientLoop, not the user's class.
    assert public(sync_cls) == public(async_cls)
    for name in public(async_cls) & public(sync_cls):
        attribute = getattr(async_cls, name)
        if inspect.iscoroutinefunction(attribute):
            assert not inspect.iscoroutinefunction(getattr(sync_cls, name)), name


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(SmoothClient, AsyncSmoothClient), (TaskHandle, AsyncTaskHandle), (Session, AsyncSession)],
)
def test_sync_twins_take_exactly_the_async_parameters(sync_cls: type, async_cls: type) -> None:
    # What the type checker and help() show of the blocking client is what the async one takes:
    # names, kinds, defaults and annotations (the constructor is written out; the rest wrapped).
    # Handles come from the client: only the client's constructor is the user's to call.
    constructor = ("__init__",) if sync_cls is SmoothClient else ()
    for name in (*constructor, *sorted(public(async_cls) & public(sync_cls))):
        attribute = getattr(async_cls, name)
        if not callable(attribute) or isinstance(attribute, type):
            continue
        twin = getattr(sync_cls, name)
        assert inspect.signature(twin).parameters == inspect.signature(attribute).parameters, name


@pytest.fixture
def sync_client(local_server: ThreadedServer) -> Iterator[SmoothClient]:
    with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
        yield client


def test_sync_session_and_task(sync_client: SmoothClient, site: SiteServer) -> None:
    with sync_client.session(url=site.url("demo/product.html")) as session:
        assert session.evaluate_js("document.title").output == "Nimbus 14 Pro Laptop | Demo Store"
        assert session.extract(Product).output == Product(name="Nimbus 14 Pro Laptop", price=1299.0)
        assert session.goto(site.url("demo/table.html")).output["title"].startswith("Largest cities")
        with pytest.raises(ActionError, match="boom"):
            session.evaluate_js("throw new Error('boom')")
        assert "| 1 | Stockholm | Sweden |" in session.run_task("read it").output
    assert session.closed
    handle = sync_client.run("product", url=site.url("demo/product.html"), response_model=Product)
    updates = list(handle.updates())
    assert updates[-1].status == "done"
    assert handle.result(timeout=30).output.price == 1299.0
    assert sync_client.get_task(handle.id).status == "done"
    assert sync_client.cancel_task(handle.id) is False
    assert handle.id in [t.id for t in sync_client.list_tasks()]


def test_sync_profiles_and_files(sync_client: SmoothClient) -> None:
    profile = sync_client.create_profile()
    assert profile.id in [p.id for p in sync_client.list_profiles()]
    sync_client.delete_profile(profile.id)
    uploaded = sync_client.upload_file(b"abc", name="a.txt")
    sync_client.delete_file(uploaded.id)


def test_sync_client_works_inside_a_running_event_loop(
    local_server: ThreadedServer, site: SiteServer
) -> None:
    results: list[object] = []

    async def notebook_cell() -> None:
        # A notebook runs cells inside a loop; the facade must not need that loop.
        with SmoothClient(api_key=API_KEY, base_url=local_server.base_url) as client:
            with client.session(url=site.url("demo/index.html")) as session:
                results.append(session.evaluate_js("1 + 1").output)

    thread = threading.Thread(target=lambda: asyncio.run(notebook_cell()))
    thread.start()
    thread.join(60)
    assert results == [2]


def test_sync_custom_tool(sync_client: SmoothClient) -> None:
    def double(n: int) -> int:
        """Double it."""
        return 2 * n

    steps = "script:" + json.dumps([{"action": "tool", "name": "double", "input": {"n": 21}}])
    assert sync_client.run(steps, custom_tools=[double]).result(timeout=30).output == 42


def test_close_is_idempotent_and_repr_hides_the_key(local_server: ThreadedServer) -> None:
    client = SmoothClient(api_key="sk-hidden-0001", base_url=local_server.base_url)
    assert "sk-hidden-0001" not in repr(client)
    client.close()
    client.close()


def test_sync_handles_extensions_and_attach(sync_client: SmoothClient, site: SiteServer) -> None:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("manifest.json", '{"manifest_version": 3, "name": "x", "version": "1"}')
    extension = sync_client.upload_extension(archive.getvalue(), name="x.zip")
    assert extension.id in [e.id for e in sync_client.list_extensions()]
    sync_client.delete_extension(extension.id)

    opened = sync_client.session(url=site.url("demo/index.html"))
    elsewhere = sync_client.attach_session(opened.id)  # as another process or replica would
    assert elsewhere.evaluate_js("location.pathname").output == "/demo/index.html"
    elsewhere.close()
    assert sync_client.get_task(opened.id).status == "done"

    handle = sync_client.run('script:[{"action": "sleep", "seconds": 30}]')
    again = sync_client.task(handle.id)
    assert again.wait_live_url() is not None
    assert again.cancel() is True
    assert handle.cancel() is False


def test_the_type_checker_sees_the_blocking_clients_parameters(tmp_path: Path) -> None:
    # The blocking twins are typed like the async methods: a wrong argument is caught before run
    # time, and results are the blocking handles (once they were `**options: Any`).
    from mypy import api

    usage = tmp_path / "usage.py"
    usage.write_text(
        "from smooth_agents import Session, SmoothClient, TaskHandle\n"
        "client = SmoothClient('key', timeout=3.0)\n"
        "handle: TaskHandle = client.run('read', url='https://example.com', max_steps=5)\n"
        "session: Session = client.session(url='https://example.com', device='mobile')\n"
        "client.run('read', max_steps='many')\n"
        "client.session(headless=True)\n"
        "SmoothClient(retries=3)\n",
        encoding="utf-8",
    )
    report, _, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(usage)]
    )
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert status == 1
    assert [line.split(":")[1] for line in errors] == ["5", "6", "7"], report


@pytest.mark.parametrize("where", ["start", "result"])
def test_ctrl_c_while_a_blocking_call_waits_cancels_its_task(
    faulty: tuple[FaultInjector, AppServer], injector: FaultInjector, where: str
) -> None:
    # A person presses Ctrl-C while the script waits for its task: the task must not run on
    # unseen to its maximum duration. Pressed while the task starts (the server's answer to its
    # creation held back) or while its result is awaited.
    server = faulty[1]
    if where == "start":
        injector.add(Fault("POST", r"/api/v1/task", hold_answer=3.0))
    main = threading.get_ident()
    waiting = threading.Event()  # the script is in the call Ctrl-C is pressed in
    with (
        httpx2.Client(base_url=server.base_url + "v1", headers={"apikey": API_KEY}, timeout=30) as api,
        SmoothClient(api_key=API_KEY, base_url=server.base_url) as client,
    ):
        before = {t["id"] for t in api.get("/task").json()["r"]}

        def new_tasks() -> set[str]:
            return {t["id"] for t in api.get("/task").json()["r"]} - before

        def blocked() -> bool:  # the script's thread waits (for the call's answer)
            frame = sys._current_frames().get(main)
            return frame is not None and (frame.f_code.co_filename, frame.f_code.co_name) == (
                threading.__file__,
                "wait",
            )

        def press_ctrl_c() -> None:
            wait_until(new_tasks, 30, "the task created")
            wait_until(waiting.is_set, 30, "the call under way")
            wait_until(blocked, 30, "the script waiting for the call")
            signal.pthread_kill(main, signal.SIGINT)

        def start_and_wait() -> None:
            if where == "start":
                waiting.set()
                client.run('script:[{"action": "sleep", "seconds": 60}]')
            else:
                handle = client.run('script:[{"action": "sleep", "seconds": 60}]')
                waiting.set()
                handle.result(timeout=60)

        # Ctrl-C raises KeyboardInterrupt here even when the tests were started in the background
        # (a shell starts those with SIGINT ignored).
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        presser = threading.Thread(target=press_ctrl_c, daemon=True)
        try:
            presser.start()
            with pytest.raises(KeyboardInterrupt):
                start_and_wait()
            presser.join(30)
        finally:
            signal.signal(signal.SIGINT, previous)
        (task_id,) = new_tasks()
        wait_until(lambda: api.get(f"/task/{task_id}").json()["r"]["status"] == "cancelled", 30, "cancelled")
