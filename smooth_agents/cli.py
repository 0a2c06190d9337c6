"""The ``smooth-agents`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _local_serve(args: argparse.Namespace) -> int:
    from smooth_agents.local import LocalServerSettings, serve
    from smooth_agents.local.settings import LOOPBACK_HOSTS

    keys = [k for k in (args.api_key or []) if k]
    if not keys and os.environ.get("SMOOTH_LOCAL_API_KEY"):
        keys = [os.environ["SMOOTH_LOCAL_API_KEY"]]
    generated = not keys
    if generated:
        keys = [LocalServerSettings.generate_api_key()]
    settings = LocalServerSettings(
        api_keys=frozenset(keys),
        host=args.host,
        port=args.port,
        allowed_hosts=frozenset(args.allow_host or ()),
        max_concurrent_sessions=args.max_sessions,
        session_idle_timeout=args.idle_timeout,
        max_task_duration=args.max_task_duration,
        enable_scripted_agent=args.scripted_agent,
    )
    if args.data_dir:
        settings.data_dir = Path(args.data_dir)
    base = f"http://{args.host}:{args.port}/api/"
    print(f"Smooth-compatible local server on {base}  (API: {base}v1)", file=sys.stderr)
    if args.host not in LOOPBACK_HOSTS:
        print(
            f"warning: listening on {args.host}, beyond this machine. Requests must name "
            f"{args.host} (or an --allow-host value) in their Host header; keep the API key secret.",
            file=sys.stderr,
        )
    if generated:
        # The one place a key is shown: the operator needs it to connect, and nobody gave one.
        print(f"Generated API key (pass --api-key to choose one): {keys[0]}", file=sys.stderr)
        print(f"  export SMOOTH_BASE_URL={base} SMOOTH_API_KEY={keys[0]}", file=sys.stderr)
    serve(settings, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smooth-agents", description="Delegate web work to Smooth.")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the self-hosted Smooth-compatible server")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    serve = local_commands.add_parser("serve", help="serve the Smooth API on this machine")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8321, help="port (default 8321)")
    serve.add_argument(
        "--api-key",
        action="append",
        help="accepted API key (repeatable; default $SMOOTH_LOCAL_API_KEY, else one is generated)",
    )
    serve.add_argument("--allow-host", action="append", help="extra Host header value to accept")
    serve.add_argument("--data-dir", help="where profiles and files live (default ~/.smooth-agents/local)")
    serve.add_argument("--max-sessions", type=int, default=16, help="concurrent sessions and tasks")
    serve.add_argument(
        "--idle-timeout", type=float, default=300.0, help="seconds before an idle session closes"
    )
    serve.add_argument("--max-task-duration", type=float, default=1800.0, help="seconds a task may run")
    serve.add_argument(
        "--scripted-agent",
        action="store_true",
        help='run tasks whose text starts with "script:" as JSON step lists (tests, demos)',
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=_local_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
