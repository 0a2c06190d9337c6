"""smooth-mcp's settings: every flag has an environment twin and help; a pasted config works."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from mcp_server.cli import build_parser, claude_config, settings_from
from smooth_agents.config import resolve_config

# A value for each setting's variable, and what the parsed flag then holds.
ENV_TWINS = {
    "transport": ("SMOOTH_MCP_TRANSPORT", "sse", "sse"),
    "host": ("SMOOTH_MCP_HOST", "0.0.0.0", "0.0.0.0"),
    "port": ("SMOOTH_MCP_PORT", "9999", 9999),
    "auth_token": ("SMOOTH_MCP_AUTH_TOKEN", "tok", "tok"),
    "allow_host": ("SMOOTH_MCP_ALLOWED_HOSTS", "a.example,b.example", ["a.example", "b.example"]),
    "allow_origin": ("SMOOTH_MCP_ALLOWED_ORIGINS", "https://a.example", ["https://a.example"]),
    "stateless": ("SMOOTH_MCP_STATELESS", "1", True),
    "wait": ("SMOOTH_MCP_WAIT", "5", 5.0),
    "handoff_timeout": ("SMOOTH_MCP_HANDOFF_TIMEOUT", "90", 90.0),
    "session_ttl": ("SMOOTH_MCP_SESSION_TTL", "60", 60.0),
    "max_sessions": ("SMOOTH_MCP_MAX_SESSIONS", "3", 3),
    "file_root": ("SMOOTH_MCP_FILE_ROOTS", "/srv/a", ["/srv/a"]),
    "content_budget": ("SMOOTH_MCP_CONTENT_BUDGET", "5000", 5000),
    "local_model": ("SMOOTH_MCP_LOCAL_MODEL", "host", "host"),
    "shared_browser": ("SMOOTH_MCP_SHARED_BROWSER", "1", True),
    "shared_browser_idle": ("SMOOTH_MCP_SHARED_BROWSER_IDLE", "30", 30.0),
    "state_url": ("SMOOTH_MCP_STATE_URL", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    "log_level": ("SMOOTH_MCP_LOG_LEVEL", "info", "info"),
}


def test_every_setting_flag_has_help_and_an_environment_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    settings = {a.dest for a in parser._actions if a.dest not in ("help", "print_config")}
    assert settings == set(ENV_TWINS)
    for action in parser._actions:
        assert action.help, action.dest
    for dest, (variable, value, expected) in ENV_TWINS.items():
        action = next(a for a in parser._actions if a.dest == dest)
        assert variable in str(action.help)
        monkeypatch.setenv(variable, value)
        assert getattr(build_parser().parse_args([]), dest) == expected
        monkeypatch.delenv(variable)


def test_a_bad_number_in_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMOOTH_MCP_CONTENT_BUDGET", "abc")
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
    assert "--content-budget: invalid int value: 'abc'" in capsys.readouterr().err


def test_the_budget_has_a_floor() -> None:
    with pytest.raises(SystemExit, match="at least 2000"):
        settings_from(build_parser().parse_args(["--content-budget", "100"]))


def test_the_handoff_timeout_reaches_the_tools_and_is_bounded() -> None:
    assert settings_from(build_parser().parse_args([])).tools.handoff_timeout == 600.0
    assert settings_from(build_parser().parse_args(["--handoff-timeout", "45"])).tools.handoff_timeout == 45.0
    with pytest.raises(SystemExit, match="handoff_timeout"):
        settings_from(build_parser().parse_args(["--handoff-timeout", "0"]))


def test_a_placeholder_key_is_no_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    placeholder = claude_config()["mcpServers"]["smooth"]["env"]["SMOOTH_API_KEY"]
    monkeypatch.setenv("SMOOTH_API_KEY", placeholder)
    config = resolve_config()
    assert config.api_key is None
    assert config.embedded
    assert "placeholder" in caplog.text


async def test_the_printed_claude_config_works_pasted_as_is() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--print-config", "claude"],
        capture_output=True,
        text=True,
        check=True,
    )
    entry = json.loads(printed.stdout)["mcpServers"]["smooth"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env.update(entry["env"])
    parameters = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    async with Client(parameters) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    # The placeholder was not sent anywhere: the embedded local server answers, and says so.
    assert "built-in local browser" in (tools["smooth_browse"].description or "")


def test_a_local_model_beside_a_smooth_key_is_refused_with_the_reason() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMOOTH_", "CIRCLEMIND_"))}
    env["SMOOTH_API_KEY"] = "sk-cloud-0123456789abcdef"
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server", "--local-model", "host"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "local_model drives the embedded local server" in done.stderr
    assert "sk-cloud-0123456789abcdef" not in done.stderr + done.stdout
