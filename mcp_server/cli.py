"""``smooth-mcp``: the MCP server over stdio, SSE or streamable HTTP."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smooth_agents.agent_tools import ToolSettings
from smooth_agents.agent_tools.base import MIN_CONTENT_BUDGET

from .settings import MCPSettings, env_default, env_flag, env_list
from .shared_browser import find_shared_browser


def build_parser() -> argparse.ArgumentParser:
    """Every setting is a flag with an environment twin (named in its help); flags win. Numbers
    from the environment are parsed like the flags' (argparse converts string defaults), so a bad
    value is a usage error naming the flag, not a traceback."""
    parser = argparse.ArgumentParser(
        prog="smooth-mcp",
        description="Smooth browser-agent tools for MCP hosts. Every setting is a flag or the "
        "SMOOTH_MCP_* variable named in its help (the flag wins).",
    )
    setting(
        parser,
        "--transport",
        "SMOOTH_MCP_TRANSPORT",
        "stdio (default; for Claude Desktop and IDEs), sse, or streamable-http",
        default="stdio",
        choices=["stdio", "sse", "streamable-http"],
    )
    setting(parser, "--host", "SMOOTH_MCP_HOST", "HTTP bind address (default 127.0.0.1)", default="127.0.0.1")
    setting(parser, "--port", "SMOOTH_MCP_PORT", "HTTP port (default 8765)", default="8765", parse=int)
    setting(
        parser,
        "--auth-token",
        "SMOOTH_MCP_AUTH_TOKEN",
        "bearer token HTTP clients must send (required off loopback); several, comma-separated, give "
        "each client its own sessions; prefer the variable: a flag is visible to other users in the "
        "process list",
    )
    list_setting(
        parser,
        "--allow-host",
        "SMOOTH_MCP_ALLOWED_HOSTS",
        "a Host header HTTP transports accept besides loopback names (repeatable)",
    )
    list_setting(
        parser,
        "--allow-origin",
        "SMOOTH_MCP_ALLOWED_ORIGINS",
        "an Origin header HTTP transports accept (repeatable)",
    )
    switch_setting(
        parser,
        "--stateless",
        "SMOOTH_MCP_STATELESS",
        "streamable HTTP without server-side MCP sessions, for replicas behind a load balancer",
    )
    setting(
        parser,
        "--wait",
        "SMOOTH_MCP_WAIT",
        "seconds smooth_browse waits before answering 'running' (default 120)",
        default="120",
        parse=float,
    )
    setting(
        parser,
        "--handoff-timeout",
        "SMOOTH_MCP_HANDOFF_TIMEOUT",
        "seconds smooth_session_handoff waits for the person to hand the browser back (default 600)",
        default="600",
        parse=float,
    )
    setting(
        parser,
        "--session-ttl",
        "SMOOTH_MCP_SESSION_TTL",
        "seconds after which an idle session this server opened is closed (default 900)",
        default="900",
        parse=float,
    )
    setting(
        parser,
        "--max-sessions",
        "SMOOTH_MCP_MAX_SESSIONS",
        "most sessions open at once (default 8)",
        default="8",
        parse=int,
    )
    list_setting(
        parser,
        "--file-root",
        "SMOOTH_MCP_FILE_ROOTS",
        "folder smooth_file_upload may read from (repeatable; stdio only; without one the tool is not "
        "offered)",
        paths=True,
    )
    setting(
        parser,
        "--content-budget",
        "SMOOTH_MCP_CONTENT_BUDGET",
        "characters per tool answer, bounding its text and its structured part alike; longer results "
        f"are cut and read on with smooth_task_status (default 20000, at least {MIN_CONTENT_BUDGET})",
        default="20000",
        parse=int,
    )
    setting(
        parser,
        "--local-model",
        "SMOOTH_MCP_LOCAL_MODEL",
        "with no Smooth key, the model the embedded browser agent uses for plain-language tasks: "
        "'host' (the MCP client's own model, through sampling with tools; no key needed) or "
        "provider:model (openai:gpt-4o-mini, ollama:llama3.1, ...; default: SMOOTH_LOCAL_MODEL, else "
        "none: tasks need a url)",
    )
    switch_setting(
        parser,
        "--shared-browser",
        "SMOOTH_MCP_SHARED_BROWSER",
        "with no Smooth key, use this user's shared local browser server instead of starting one per "
        "process: for hosts that start a process per tool call (langchain-mcp-adapters' default); "
        "sessions then outlive the process, and the server ends after --shared-browser-idle",
    )
    setting(
        parser,
        "--shared-browser-idle",
        "SMOOTH_MCP_SHARED_BROWSER_IDLE",
        "seconds without a call, a session or a live view after which the shared server ends (default 600)",
        default="600",
        parse=float,
    )
    setting(
        parser,
        "--state-url",
        "SMOOTH_MCP_STATE_URL",
        "a Redis server (redis://host:6379/0) where replicas behind one load balancer keep what they "
        "must remember alike: who owns which session and task, when each session was last used "
        "(default: this process's memory); prefer the variable when the URL holds a password",
    )
    setting(
        parser,
        "--log-level",
        "SMOOTH_MCP_LOG_LEVEL",
        "what goes to stderr: debug, info (start-up moments included), warning (default), error",
        default="warning",
        choices=["debug", "info", "warning", "error"],
    )
    parser.add_argument(
        "--print-config",
        choices=["claude"],
        help="print a ready claude_desktop_config.json entry and exit (a command, no variable)",
    )
    return parser


def setting(
    parser: argparse.ArgumentParser,
    flag: str,
    variable: str,
    says: str,
    *,
    default: str | None = None,
    parse: Callable[[str], Any] = str,
    choices: Sequence[str] | None = None,
) -> None:
    """A flag whose default is its variable's value (or ``default``)."""
    fallback = env_default(variable, default) if default is not None else os.environ.get(variable) or None
    parser.add_argument(flag, type=parse, choices=choices, default=fallback, help=f"{says} [env {variable}]")


def list_setting(
    parser: argparse.ArgumentParser, flag: str, variable: str, says: str, *, paths: bool = False
) -> None:
    """A repeatable flag whose variable holds a list (comma-separated; folders also by path separator)."""
    separated = f"separated by {os.pathsep!r} or commas" if paths else "comma-separated"
    parser.add_argument(
        flag,
        action="append",
        default=list(env_list(variable, paths=paths)),
        help=f"{says} [env {variable}, {separated}]",
    )


def switch_setting(parser: argparse.ArgumentParser, flag: str, variable: str, says: str) -> None:
    """A yes/no flag whose variable says yes with 1, true, yes or on."""
    parser.add_argument(
        flag, action="store_true", default=env_flag(variable), help=f"{says} [env {variable}=1]"
    )


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
        local_model=args.local_model,
        shared_browser=args.shared_browser,
        shared_browser_idle=args.shared_browser_idle,
        state_url=args.state_url,
        tools=ToolSettings(
            wait_seconds=args.wait,
            handoff_timeout=args.handoff_timeout,
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
        level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.log_level == "info":  # one line per HTTP request is debug detail
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    if args.print_config == "claude":
        print(json.dumps(claude_config(), indent=2))
        return 0
    settings = settings_from(args)
    settings.check()
    # Before the MCP stack loads: with --shared-browser, the shared server is looked for (and
    # started if none runs) meanwhile, on a thread.
    shared_server = find_shared_browser(settings, log_level=args.log_level)

    import anyio

    from .server import build_server

    try:
        server, runtime = build_server(settings, shared_server=shared_server)
    except ValueError as exc:  # a local model with a Smooth key, for instance
        raise SystemExit(f"smooth-mcp: {exc}") from None
    if settings.transport == "stdio":
        from .stdio import run_stdio

        run_stdio(server, runtime)
        # The host closed stdin, and every session, client and browser of this process is closed:
        # end at once. The interpreter's own teardown takes about a third of a second, and a host
        # that starts a process per call (langchain-mcp-adapters' default) waits for the process
        # to end before it hands the call's result to its model.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
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
