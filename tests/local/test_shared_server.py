"""This user's shared local server: found again by a later process, ended when idle (not while a
session lives), replaced when stale, and trusted only when its state is this user's alone and it
proves it holds its key, which an impostor is never sent. Real processes, real Chromium."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from smooth_agents.local.server import free_port
from smooth_agents.shared_server import (
    SharedEndpoint,
    SharedLocalServer,
    SharedPlace,
    SharedServerUnavailable,
    private_folder,
    process_alive,
    proves_key,
    stop_shared,
)
from tests.helpers import SiteServer


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A shared folder of the test's own; every shared server it names is ended at the end."""
    monkeypatch.setenv("SMOOTH_LOCAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMOOTH_LOCAL_RECORDING", "0")
    shared = tmp_path / "shared"
    yield shared
    stop_shared(shared)


def state_file(folder: Path) -> Path:
    return SharedPlace.for_settings(private_folder(folder), None).state_file


def write_state(folder: Path, **state: object) -> Path:
    path = state_file(folder)
    path.write_text(json.dumps(state), encoding="utf-8")
    path.chmod(0o600)
    return path


def wait_until_ended(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.1)


async def shared(folder: Path, idle_timeout: float = 120) -> SharedEndpoint:
    return await SharedLocalServer.find_or_start(folder=folder, idle_timeout=idle_timeout).endpoint()


async def test_a_later_process_finds_the_same_server_and_only_its_key_opens_it(folder: Path) -> None:
    started = await shared(folder)
    found = await shared(folder)
    assert found == started  # same port, key and process
    status = os.stat(state_file(folder))
    assert status.st_mode & 0o777 == 0o600
    assert os.stat(folder).st_mode & 0o777 == 0o700
    async with httpx2.AsyncClient(base_url=started.base_url + "v1", timeout=30) as raw:
        assert (await raw.get("/task")).status_code == 401
        assert (await raw.get("/task", headers={"apikey": "sk-guess"})).status_code == 401
        assert (await raw.get("/task", headers={"apikey": started.api_key})).status_code == 200
    assert proves_key(started.port, started.api_key)
    assert not proves_key(started.port, "sk-another-key")


async def test_it_ends_when_idle_and_not_while_a_session_lives(folder: Path, site: SiteServer) -> None:
    # 2 s idle: the first request must come within it of the key proof, however slow the machine.
    server = await shared(folder, idle_timeout=2)
    headers = {"apikey": server.api_key}
    async with httpx2.AsyncClient(base_url=server.base_url + "v1", headers=headers, timeout=30) as raw:
        opened = await raw.post("/task", json={"task": None, "url": site.url("demo/index.html")})
        session_id = opened.json()["r"]["id"]
        await asyncio.sleep(5)  # over two idle times without a request: the open session keeps it
        assert process_alive(server.pid)
        assert (await raw.get(f"/task/{session_id}")).json()["r"]["status"] == "running"
        await raw.delete(f"/task/{session_id}")
    wait_until_ended(server.pid)
    assert not state_file(folder).exists()


async def test_a_stale_state_file_is_replaced(folder: Path) -> None:
    gone = free_port()  # nothing listens there: the server it named has ended
    path = write_state(folder, pid=2**22 + 1, port=gone, key="sk-local-of-a-server-gone", version="0")
    server = await shared(folder)
    assert server.port != gone
    assert json.loads(path.read_text(encoding="utf-8"))["pid"] == server.pid
    assert proves_key(server.port, server.api_key)


class Impostor(http.server.ThreadingHTTPServer):
    """Whatever took the port of a server that ended: answers everything, keeps what it was sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(self.requestline + "\n" + str(self.headers))
                body = json.dumps({"proof": "0" * 64}).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


async def test_a_server_that_cannot_prove_the_key_is_never_sent_it(folder: Path) -> None:
    impostor = Impostor()
    try:
        key = "sk-local-the-secret-of-a-server-gone"
        write_state(folder, pid=os.getpid(), port=impostor.server_address[1], key=key, version="0")
        server = await shared(folder)
        assert server.port != impostor.server_address[1]
        assert impostor.seen, "it was asked to prove the key"
        assert all(key not in request for request in impostor.seen)
    finally:
        impostor.shutdown()
        impostor.server_close()


@pytest.mark.parametrize("how", ["readable by others", "another user's"])
async def test_a_state_file_not_private_to_this_user_is_not_trusted(folder: Path, how: str) -> None:
    if how == "another user's" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    first = await shared(folder)
    try:
        path = state_file(folder)
        if how == "readable by others":
            path.chmod(0o644)
        else:
            os.chown(path, 65534, 65534)
        # It names a live server with the right key, yet it is not trusted: a new server starts.
        second = await shared(folder)
        assert second.pid != first.pid
        assert path.stat().st_uid == os.getuid()
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.kill(first.pid, signal.SIGTERM)
        wait_until_ended(first.pid)


def test_the_folder_is_made_this_users_alone(tmp_path: Path) -> None:
    opened = tmp_path / "opened"
    opened.mkdir(mode=0o755)
    opened.chmod(0o755)
    assert private_folder(opened).stat().st_mode & 0o777 == 0o700
    linked = tmp_path / "linked"
    linked.symlink_to(opened)
    with pytest.raises(SharedServerUnavailable, match="not a folder of this user's"):
        private_folder(linked)
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        with pytest.raises(SharedServerUnavailable, match="not a folder of this user's"):
            private_folder(foreign)
