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


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SMOOTH_LOCAL_MODEL": "someprovider:model"}, "provider LangChain does not know"),
        ({"SMOOTH_LOCAL_MODEL": "ibm:granite"}, "pip install langchain-ibm"),
        ({"SMOOTH_LOCAL_MODEL": "gpt4"}, "'provider:model'"),
        ({"SMOOTH_LOCAL_MODEL": "openai:gpt-4o-mini", "OPENAI_API_KEY": ""}, "OPENAI_API_KEY"),
        ({"SMOOTH_BASE_URL": "http://127.0.0.1:9/api/"}, "no API key"),
        ({"SMOOTH_API_KEY": API_KEY, "SMOOTH_BASE_URL": "127.0.0.1:9/api"}, "http:// or https://"),
        ({"SMOOTH_LOCAL_DATA_DIR": __file__}, "SMOOTH_LOCAL_DATA_DIR"),
        ({"SMOOTH_LOCAL_BROWSER": "/nonexistent/chromium"}, "SMOOTH_LOCAL_BROWSER"),
    ],
    ids=[
        "unknown-provider",
        "provider-package-missing",
        "bad-model-spec",
        "provider-key-missing",
        "base-url-without-key",
        "base-url-not-http",
        "data-dir-a-file",
        "browser-missing",
    ],
)
def test_a_configuration_error_is_one_line_and_exit_code_2(env: dict[str, str], says: str) -> None:
    done = cli("run", "read the page", "--url", "http://127.0.0.1:9/", "--quiet", env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if not line.startswith("WARNING ")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("smooth-agents: ")
    assert says in lines[0]


def test_bad_flags_of_the_commands_are_one_line_and_exit_code_2() -> None:
    for args in (
        ("run", "x", "--schema", "[1, 2]"),
        ("extract", "http://127.0.0.1:9/", "--schema", "{not json"),
        ("local", "serve", "--max-sessions", "0"),
    ):
        done = cli(*args, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("smooth-agents: ")
