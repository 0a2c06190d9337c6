"""The command line: run and extract, on the embedded server and on a configured one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from smooth_agents.local import ThreadedServer
from tests.helpers import API_KEY, SiteServer

PRODUCT_SCHEMA = json.dumps(
    {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}
)


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smooth_agents.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
    )


def test_extract_on_the_embedded_server(site: SiteServer) -> None:
    done = cli("extract", site.url("demo/product.html"), "--schema", PRODUCT_SCHEMA)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "Nimbus 14 Pro Laptop", "price": 1299.0}
    assert "embedded local Smooth server" in done.stderr
    assert "live view: http://127.0.0.1:" in done.stderr


def test_run_with_a_schema_file_against_a_configured_server(
    local_server: ThreadedServer, site: SiteServer, tmp_path: pytest.TempPathFactory
) -> None:
    schema_file = tmp_path / "schema.json"  # type: ignore[operator]
    schema_file.write_text(PRODUCT_SCHEMA)
    env = {"SMOOTH_API_KEY": API_KEY, "SMOOTH_BASE_URL": local_server.base_url}
    done = cli(
        "run",
        "get the product",
        "--url",
        site.url("demo/product.html"),
        "--schema",
        str(schema_file),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["price"] == 1299.0
    assert API_KEY not in done.stdout + done.stderr
    full = cli("run", "read", "--url", site.url("demo/article.html"), "--json", env=env)
    result = json.loads(full.stdout)
    assert result["status"] == "done"
    assert result["output"].startswith("# ")


def test_a_failed_task_exits_1_with_the_reason(local_server: ThreadedServer) -> None:
    env = {"SMOOTH_API_KEY": API_KEY, "SMOOTH_BASE_URL": local_server.base_url}
    done = cli("run", "book me a flight", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "url" in done.stderr


def test_bad_schema_is_a_usage_error(site: SiteServer) -> None:
    done = cli("extract", site.url("demo/product.html"), "--schema", "{not json")
    assert done.returncode != 0
    assert "--schema" in done.stderr


def test_the_mcp_command_is_the_mcp_server_found_through_its_entry_point() -> None:
    # The core names no adapter: `smooth-agents mcp` loads what the packaging declares.
    done = cli("mcp", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: smooth-mcp")
    assert "--transport" in done.stdout
