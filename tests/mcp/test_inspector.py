"""An external MCP client none of us wrote: the MCP Inspector CLI lists our tools and calls one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SiteServer

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".cache" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not INSPECTOR.exists(),
    reason="Node.js or the MCP Inspector is absent (scripts/bootstrap installs it where npm exists)",
)


def inspector(tmp_path: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env["SMOOTH_LOCAL_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [str(INSPECTOR), "--cli", sys.executable, "-m", "mcp_server", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_inspector_lists_the_tools(tmp_path: Path) -> None:
    listed = inspector(tmp_path, "--method", "tools/list")
    names = [t["name"] for t in listed["tools"]]  # type: ignore[attr-defined,index]
    assert "smooth_browse" in names
    assert "smooth_extract" in names


def test_inspector_calls_extract(tmp_path: Path, site: SiteServer) -> None:
    schema = json.dumps({"type": "object", "properties": {"price": {"type": "number"}}})
    answer = inspector(
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "smooth_extract",
        "--tool-arg",
        f"url={site.url('demo/product.html')}",
        "--tool-arg",
        f"json_schema={schema}",
    )
    assert answer["isError"] is False
    assert answer["structuredContent"]["data"] == {"price": 1299}  # type: ignore[index]
