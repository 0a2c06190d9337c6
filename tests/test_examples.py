"""The examples run as a user would run them: fresh processes, no API key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["session.py", "mcp_roundtrip.py"])
def test_examples_print_the_product(name: str) -> None:
    done = run_example(name)
    assert done.returncode == 0, done.stderr
    product = json.loads(done.stdout)
    assert product["name"] == "Nimbus 14 Pro Laptop"
    assert product["price"] == 1299.0


def test_custom_tool_example_converts_the_price() -> None:
    done = run_example("custom_tool.py")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"amount": 1195.08, "currency": "EUR"}


def test_langgraph_agent_example_answers_with_the_extracted_product() -> None:
    done = run_example("langgraph_agent.py")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}
