"""``smooth-mcp``: the MCP server over stdio, SSE or streamable HTTP."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smooth_agents.agent_tools import ToolSettings
from smooth_agents.agent_tools.base import MIN_CONTENT_BUDGET

from .settings import MCPSettings, env_default, env_flag, env_list


def build_parser() -> argparse.ArgumentParser:
    """Every setting is a flag with an environment twin (named in its help); flags win. Numbers
    from the environment are parsed like the flags' (argparse converts string defaults), so a bad
    value is a usage error naming the flag, not a traceback."""
    parser = argparse.ArgumentParser(
        prog="smooth-mcp",
        description="Smooth browser-agent tools for MCP hosts. Every setting is a flag or the "
        "SMOOTH_MCP_* variable named in its help (the flag wins).",
    )
    parser.add_argument(
        "--transport",
        choices=["stdio", "sse", "streamable-http"],
        default=env_default("SMOOTH_MCP_TRANSPORT", "stdio"),
        help="stdio (default; for Claude Desktop and IDEs), sse, or streamable-http "
        "[env SMOOTH_MCP_TRANSPORT]",
    )
    parser.add_argument(
        "--host",
        default=env_default("SMOOTH_MCP_HOST", "127.0.0.1"),
        help="HTTP bind address (default 127.0.0.1) [env SMOOTH_MCP_HOST]",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=env_default("SMOOTH_MCP_PORT", "8765"),
        help="HTTP port (default 8765) [env SMOOTH_MCP_PORT]",
    )
    parser.add_argument(
        "--auth-token",
        default=os.environ.get("SMOOTH_MCP_AUTH_TOKEN") or None,
        help="bearer token HTTP clients must send (required off loopback); several, comma-separated, "
        "give each client its own sessions; prefer the variable: a flag is visible to other users "
        "in the process list [env SMOOTH_MCP_AUTH_TOKEN]",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=list(env_list("SMOOTH_MCP_ALLOWED_HOSTS")),
        help="a Host header HTTP transports accept besides loopback names (repeatable) "
        "[env SMOOTH_MCP_ALLOWED_HOSTS, comma-separated]",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=list(env_list("SMOOTH_MCP_ALLOWED_ORIGINS")),
        help="an Origin header HTTP transports accept (repeatable) "
        "[env SMOOTH_MCP_ALLOWED_ORIGINS, comma-separated]",
    )
    parser.add_argument(
        "--stateless",
        action="store_true",
        default=env_flag("SMOOTH_MCP_STATELESS"),
        help="streamable HTTP without server-side MCP sessions, for replicas behind a load balancer "
        "[env SMOOTH_MCP_STATELESS=1]",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=env_default("SMOOTH_MCP_WAIT", "120"),
        help="seconds smooth_browse waits before answering 'running' (default 120) [env SMOOTH_MCP_WAIT]",
    )
    parser.add_argument(
        "--session-ttl",
        type=float,
        default=env_default("SMOOTH_MCP_SESSION_TTL", "900"),
        help="seconds after which an idle session this server opened is closed (default 900) "
        "[env SMOOTH_MCP_SESSION_TTL]",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=env_default("SMOOTH_MCP_MAX_SESSIONS", "8"),
        help="most sessions open at once (default 8) [env SMOOTH_MCP_MAX_SESSIONS]",
    )
    parser.add_argument(
        "--file-root",
        action="append",
        default=list(env_list("SMOOTH_MCP_FILE_ROOTS", paths=True)),
        help="folder smooth_file_upload may read from (repeatable; stdio only; without one the tool "
        f"is not offered) [env SMOOTH_MCP_FILE_ROOTS, separated by {os.pathsep!r} or commas]",
    )
    parser.add_argument(
        "--content-budget",
        type=int,
        default=env_default("SMOOTH_MCP_CONTENT_BUDGET", "20000"),
        help="characters per tool answer, bounding its text and its structured part alike; longer "
        f"results are cut and read on with smooth_task_status (default 20000, at least {MIN_CONTENT_BUDGET}) "
        "[env SMOOTH_MCP_CONTENT_BUDGET]",
    )
    parser.add_argument(
        "--print-config",
        choices=["claude"],
        help="print a ready claude_desktop_config.json entry and exit (a command, no variable)",
    )
    return parser


def settings_from(args: argparse.Namespace) -> MCPSettings:
    try:
        return _settings_from(args)
    except ValueError as exc:
        raise SystemExit(f"smooth-mcp: {exc}") from None


def _settings_from(args: argparse.Namespace) -> MCPSettings:
    return MCPSettings(
        transport=args.transport,
        host=args.host,
        port=args.port,
        auth_token=args.auth_token,
        allowed_hosts=tuple(args.allow_host),
        allowed_origins=tuple(args.allow_origin),
        stateless_http=args.stateless,
        session_ttl=args.session_ttl,
        max_sessions=args.max_sessions,
        tools=ToolSettings(
            wait_seconds=args.wait,
            content_budget=args.content_budget,
            file_roots=tuple(args.file_root),
        ),
    )


def claude_config() -> dict[str, Any]:
    """A claude_desktop_config.json entry; the key stays a placeholder unless it is set here."""
    command = shutil.which("smooth-mcp") or str(Path(sys.executable).with_name("smooth-mcp"))
    env = {"SMOOTH_API_KEY": "<your Smooth API key, or remove this line to use the local browser>"}
    return {"mcpServers": {"smooth": {"command": command, "args": [], "env": env}}}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # stdout carries only the protocol: every log line goes to stderr.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.print_config == "claude":
        print(json.dumps(claude_config(), indent=2))
        return 0
    settings = settings_from(args)
    settings.check()

    import anyio

    from .server import build_server

    server, runtime = build_server(settings)
    if settings.transport == "stdio":
        from .stdio import run_stdio

        run_stdio(server, runtime)
        return 0
    from .http import serve_http

    print(
        f"smooth-mcp: {settings.transport} on http://{settings.host}:{settings.port}"
        f"{'/sse' if settings.transport == 'sse' else '/mcp'}",
        file=sys.stderr,
    )
    anyio.run(serve_http, server, runtime, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
