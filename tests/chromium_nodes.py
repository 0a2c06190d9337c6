"""Browsers that live elsewhere, as a pool's members would: headless Chromium processes with their
DevTools port open on loopback, each in a process group of its own with its own temporary
profile. Shared by the pool's tests, the host matrix's pooled deployment and bench/browser_pool.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2

from tests.helpers import wait_until

CHROMIUM = "/usr/bin/chromium"


class ChromiumNode:
    """A headless Chromium with its DevTools port open, in a process group of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ChromiumNode:
        """Start it (again on the same port once it had one)."""
        self.starts += 1
        profile = self.folder / f"profile-{self.starts}"
        log = self.folder / f"stderr-{self.starts}.txt"
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        command += ["--disable-background-networking", f"--remote-debugging-port={self.port}"]
        command += [f"--user-data-dir={profile}", "about:blank"]
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
            )

        def listening() -> int:
            assert self.process is not None
            assert self.process.poll() is None, log.read_text()
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", log.read_text(errors="replace"))
            return int(found.group(1)) if found else 0

        self.port = wait_until(listening, 30, "Chromium listens")
        return self

    def pages(self) -> list[str]:
        """The addresses of the pages this browser shows now."""
        targets = httpx2.get(self.endpoint + "/json/list", timeout=10).json()
        return [t["url"] for t in targets if t.get("type") == "page"]

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """Kill the browser and every process of it at once (a crash, an OOM kill)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(20)


@contextlib.contextmanager
def chromium_nodes(folder: Path) -> Iterator[Callable[[int], list[ChromiumNode]]]:
    """Start nodes on demand (``start(count)`` gives the new ones); every one killed at the end."""
    started: list[ChromiumNode] = []

    def start(count: int) -> list[ChromiumNode]:
        for _ in range(count):
            node_folder = folder / f"node-{len(started)}"
            node_folder.mkdir(parents=True)
            node = ChromiumNode(node_folder)
            started.append(node)
            node.start()
        return started[-count:]

    try:
        yield start
    finally:
        for node in started:
            node.kill()
