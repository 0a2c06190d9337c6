"""Import cost of the core, side by side with its dependencies (fresh interpreter per sample).

`import smooth_agents` loads names lazily; the second row is what a program pays once it
touches the client; the last rows are the libraries that cost dominates.

Usage: .venv/bin/python bench/import_time.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STATEMENTS = [
    ("import smooth_agents", "import smooth_agents"),
    ("from smooth_agents import SmoothClient", "from smooth_agents import SmoothClient"),
    ("import smooth_agents.cli", "import smooth_agents.cli"),
    ("pydantic + httpx2 + anyio (deps)", "import pydantic, httpx2, anyio.from_thread"),
    ("import asyncio (stdlib)", "import asyncio"),
]


def sample(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    baseline = statistics.median(sample("import asyncio") for _ in range(runs))
    print(f"{'statement':<42}{'median ms':>10}{'x asyncio':>11}")
    for label, statement in STATEMENTS:
        median = statistics.median(sample(statement) for _ in range(runs))
        print(f"{label:<42}{median * 1000:>10.1f}{median / baseline:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
