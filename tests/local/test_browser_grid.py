"""Browsers that live elsewhere: the local server drives a running Chromium over CDP."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from smooth_agents.local import LocalRuntime
from smooth_agents.local.server import free_port
from tests.helpers import HitRecorder, SiteServer, make_settings


@pytest.fixture
def remote_chromium(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Chromium started apart from the server, as a browser grid node would be."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "the tests need a Chromium (scripts/bootstrap installs one)"
    port = free_port()
    command = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    command += ["--disable-background-networking", f"--remote-debugging-port={port}"]
    command += [f"--user-data-dir={tmp_path / 'profile'}", "about:blank"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(endpoint + "/json/version", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the remote Chromium did not start"
                time.sleep(0.05)
        yield endpoint, process
    finally:
        process.terminate()
        process.wait(20)


async def test_sessions_run_on_a_browser_reached_over_cdp(
    remote_chromium: tuple[str, subprocess.Popen[bytes]], site: SiteServer, tmp_path: Path
) -> None:
    endpoint, process = remote_chromium
    runtime = LocalRuntime(make_settings(tmp_path, browser_cdp_endpoint=endpoint))
    await runtime.start()
    try:
        task = await runtime.submit(
            runtime.parse_task_request({"task": None, "url": site.url("demo/index.html")})
        )
        assert task.status == "running"
        assert task.browser is not None
        await task.browser.goto(site.url("demo/product.html"))
        assert await task.browser.evaluate_js("document.title") == "Nimbus 14 Pro Laptop | Demo Store"
        # The page lives in the remote browser: it lists it among its targets.
        targets = httpx2.get(endpoint + "/json/list").json()
        assert any(t.get("url") == site.url("demo/product.html") for t in targets)
        await runtime.cancel(task.id)
    finally:
        await runtime.aclose()
    # Closing the server leaves a browser it did not start running.
    assert process.poll() is None


async def test_a_remote_browser_holds_allowed_urls_request_by_request(
    remote_chromium: tuple[str, subprocess.Popen[bytes]], site: SiteServer, tmp_path: Path
) -> None:
    # A browser on a grid cannot reach the server's loopback proxy (the choke point of a local
    # browser): its tasks get none, and the guard alone holds allowed_urls, as before.
    endpoint, _ = remote_chromium
    outside = HitRecorder()
    runtime = LocalRuntime(make_settings(tmp_path, browser_cdp_endpoint=endpoint))
    await runtime.start()
    try:
        fields = {"task": None, "url": site.url("demo/index.html"), "allowed_urls": [site.url("**")]}
        task = await runtime.submit(runtime.parse_task_request(fields))
        assert task.browser is not None
        assert task.browser.network_gate is None
        fetched = "(u) => fetch(u).then(() => 'loaded', () => 'refused')"
        assert await task.browser.evaluate_js(fetched, outside.url(path="/leak")) == "refused"
        assert outside.hits == 0
        await runtime.cancel(task.id)
    finally:
        await runtime.aclose()
        outside.close()
