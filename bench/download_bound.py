"""How far past max_download_bytes a download lands on disk before it is cut off.

Starts `smooth-agents local serve --scripted-agent --max-download-bytes LIMIT` as a subprocess
(Playwright's driver keeps the browser's downloads in its temporary folder: a folder of this
benchmark's), serves a file without a declared length from the test site in this process, and
runs tasks that download it, at loopback speed and paced. A thread measures the largest file in
those folders every half millisecond; per task it reports that peak and what the task said.

Usage: .venv/bin/python bench/download_bound.py [--rounds 10] [--limit 1000000] [--size 200000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

from smooth_agents.local.server import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixture site
from tests.helpers import SiteServer

KEY = "sk-bench-downloads"


class Peak:
    """The largest file under ``folder``, measured from a thread of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.value = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for root, _dirs, files in os.walk(self.folder):
                if "chromiumdev_profile" in root:
                    continue
                for name in files:
                    try:
                        self.value = max(self.value, os.stat(os.path.join(root, name)).st_size)
                    except OSError:
                        continue
            time.sleep(0.0005)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(5)
        return self.value


def one_task(http: httpx2.Client, folder: Path, url: str) -> dict[str, Any]:
    fetch = (
        f"const a = document.createElement('a'); a.href = {json.dumps(url)};"
        " a.setAttribute('download', ''); document.body.append(a); a.click()"
    )
    steps = [
        {"action": "goto", "url": url.rsplit("/download/", 1)[0] + "/files/index.html"},
        {"action": "evaluate_js", "js": fetch},
        {"action": "sleep", "seconds": 2},
        {"action": "return", "output": "ok"},
    ]
    peak = Peak(folder)
    body = {"task": "script:" + json.dumps(steps), "enable_recording": False}
    task_id = http.post("/task", json=body).json()["r"]["id"]
    while (response := http.get(f"/task/{task_id}")).status_code != 200:
        time.sleep(0.05)
    events = [e["payload"] for e in response.json()["r"]["events"] if e["name"] == "download"]
    return {"peak": peak.stop(), "event": events[-1] if events else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--limit", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=200_000_000)
    args = parser.parse_args()
    port = free_port()
    # Short: Chromium keeps a socket in it, and a socket's path has at most 107 bytes.
    with tempfile.TemporaryDirectory(prefix="dl-") as temp, SiteServer() as site:
        command = [
            sys.executable, "-m", "smooth_agents.cli", "local", "serve", "--port", str(port),
            "--scripted-agent", "--api-key", KEY, "--data-dir", str(Path(temp) / "data"),
            "--max-download-bytes", str(args.limit), "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, "TMPDIR": temp}
        server = subprocess.Popen(command, stderr=subprocess.DEVNULL, env=env)
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            with httpx2.Client(base_url=base, headers={"apikey": KEY}, timeout=60) as http:
                for _ in range(200):
                    try:
                        http.get("/task")
                        break
                    except httpx2.TransportError:
                        time.sleep(0.1)
                one_task(http, Path(temp), site.url("download/warm.txt"))  # the browser started
                print(f"{args.size:,} bytes offered (no length declared) against {args.limit:,}")
                for label, pace in (("loopback speed", ""), ("64 KiB every 10 ms", "&pace=0.01")):
                    url = site.url(f"download/big.bin?bytes={args.size}&declared=0{pace}")
                    runs = [one_task(http, Path(temp), url) for _ in range(args.rounds)]
                    peaks = sorted(r["peak"] for r in runs)
                    cut = sum(1 for r in runs if r["event"] and "cancelled" in r["event"].get("reason", ""))
                    print(
                        f"  {label}: largest file median {statistics.median(peaks) / 1e6:.1f} MB, "
                        f"max {peaks[-1] / 1e6:.1f} MB, min {peaks[0] / 1e6:.1f} MB; "
                        f"cancelled while arriving {cut}/{len(runs)}"
                    )
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
