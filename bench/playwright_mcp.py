"""playwright-mcp, the benchmarks' point of comparison: the version measured, installed with npm
on first use into a folder of the checkout's cache (``.cache`` is gitignored)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PLAYWRIGHT_MCP_VERSION = "0.0.83"


def ensure_playwright_mcp(folder: Path) -> Path | None:
    """Its command, installed into ``folder`` first if need be; None without npm."""
    binary = folder / "node_modules" / ".bin" / "playwright-mcp"
    if binary.exists():
        return binary
    if not shutil.which("npm"):
        print("npm is not on PATH: playwright-mcp is not measured")
        return None
    print(f"installing @playwright/mcp@{PLAYWRIGHT_MCP_VERSION} into {folder} ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(folder)),
            f"@playwright/mcp@{PLAYWRIGHT_MCP_VERSION}",
        ],
        check=True,
    )
    return binary if binary.exists() else None
