"""A real redis-server for the tests (Debian's package): on a free loopback port, in a temporary
folder, keeping nothing on disk, stopped at the end."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from smooth_agents.local.server import free_port

START_TIMEOUT = 20.0


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Start redis-server; yield its URL (database 0)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    command = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
        "--daemonize",
        "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        probe = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        with probe:
            while True:  # until it answers (or has died)
                try:
                    if probe.ping():
                        break
                except redis.ConnectionError:
                    if process.poll() is not None:
                        output = process.stdout.read() if process.stdout else ""
                        raise AssertionError(f"redis-server did not start: {output}") from None
                    assert time.monotonic() < deadline, "redis-server did not answer in time"
                    time.sleep(0.02)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
