"""The ``smooth-agents`` command line.

A configuration error (a bad flag value, a bad environment value, a model that cannot be made, a
provider package missing) is one line on stderr and exit code 2, never a traceback; a task that
fails is its reason on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from smooth_agents import AsyncSmoothClient

T = TypeVar("T")


class ConfigurationError(Exception):
    """What the command was given (flags, environment) cannot work: one line, exit code 2."""

    def __init__(self, reason: object) -> None:
        super().__init__(" ".join(str(reason).split()))  # one line, whatever the source wrote


def _configured(make: Callable[[], T]) -> T:
    """``make()``, its refusal of a setting (ValueError, or OSError for a path that cannot be
    used) as a ConfigurationError."""
    try:
        return make()
    except (ValueError, OSError) as exc:
        raise ConfigurationError(exc) from None


@asynccontextmanager
async def _client() -> AsyncIterator[AsyncSmoothClient]:
    """A client, connected before any work: with no key this starts the embedded server, so what
    the environment configures (a model, a data folder, a browser) is checked here."""
    from smooth_agents import AsyncSmoothClient

    client = _configured(AsyncSmoothClient)
    try:
        try:
            await client.connect()
        except (ValueError, OSError) as exc:
            raise ConfigurationError(exc) from None
        yield client
    finally:
        await client.close()


def _local_serve(args: argparse.Namespace) -> int:
    from smooth_agents.local import LocalServerSettings, serve
    from smooth_agents.local.settings import LOOPBACK_HOSTS

    keys = [k for k in (args.api_key or []) if k]
    if not keys and os.environ.get("SMOOTH_LOCAL_API_KEY"):
        keys = [os.environ["SMOOTH_LOCAL_API_KEY"]]
    generated = not keys
    if generated:
        keys = [LocalServerSettings.generate_api_key()]
    settings = _configured(
        lambda: LocalServerSettings(
            api_keys=frozenset(keys),
            host=args.host,
            port=args.port,
            allowed_hosts=frozenset(args.allow_host or ()),
            max_concurrent_sessions=args.max_sessions,
            session_idle_timeout=args.idle_timeout,
            max_task_duration=args.max_task_duration,
            max_request_bytes=args.max_request_bytes,
            max_upload_bytes=args.max_upload_bytes,
            max_output_chars=args.max_output_chars,
            max_download_bytes=args.max_download_bytes,
            max_task_tokens=args.max_task_tokens,
            settle_cap=args.settle_cap,
            enable_scripted_agent=args.scripted_agent,
            browser_executable=args.browser,
            browser_cdp_endpoint=args.browser_cdp_endpoint,
            browser_ws_endpoint=args.browser_ws_endpoint,
            browser_endpoint_capacity=args.browser_endpoint_capacity,
            browser_health_interval=args.browser_health_interval,
        )
    )
    if args.data_dir:
        settings.data_dir = Path(args.data_dir)
    if args.no_recording:
        settings.recording = False
    if args.model:
        settings.model = args.model
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
    # Making the server reads its configuration (the model, the data folder) before it serves.
    _configured(lambda: serve(settings, log_level=args.log_level))
    return 0


def _load_schema(text: str | None) -> dict[str, Any] | None:
    """A JSON schema from a file path or inline JSON text."""
    if text is None:
        return None
    candidate = Path(text)
    raw = (
        candidate.read_text(encoding="utf-8")
        if not text.lstrip().startswith("{") and candidate.is_file()
        else text
    )
    try:
        schema = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"--schema is neither a JSON file nor JSON text: {exc}") from None
    if not isinstance(schema, dict):
        raise ConfigurationError("--schema must be a JSON object (a JSON schema).")
    return schema


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


async def _run_task(args: argparse.Namespace) -> int:
    from smooth_agents import SmoothError
    from smooth_agents.progress import Progress

    schema = _load_schema(args.schema)
    async with _client() as client:
        try:
            handle = await client.run(
                args.task, url=args.url, response_model=schema, max_steps=args.max_steps
            )
            with Progress(f"task {handle.id}", quiet=args.quiet) as progress:
                progress.show(handle.status, handle.live_url)
                follower = asyncio.create_task(progress.follow(handle.updates()))
                try:
                    result = await handle.result(timeout=args.timeout)
                finally:
                    follower.cancel()
        except SmoothError as exc:
            print(f"smooth-agents: {exc}", file=sys.stderr)
            return 1
    tokens = result.tokens
    if tokens is not None and not args.quiet:
        print(
            f"smooth-agents: the model used {tokens[0]:,} input and {tokens[1]:,} output tokens",
            file=sys.stderr,
        )
    if args.json:
        _print_json(result.model_dump(mode="json"))
    elif isinstance(result.output, str):
        print(result.output)
    else:
        _print_json(result.output)
    return 0


async def _extract(args: argparse.Namespace) -> int:
    from smooth_agents import SmoothError
    from smooth_agents.progress import Progress

    schema = _load_schema(args.schema)
    assert schema is not None
    async with _client() as client:
        try:
            with Progress(f"extract {args.url}", quiet=args.quiet) as progress:
                async with client.session() as session:
                    progress.show("loading", session.live_url)
                    await session.goto(args.url)
                    progress.show("extracting")
                    extracted = await session.extract(schema, prompt=args.prompt)
        except SmoothError as exc:
            print(f"smooth-agents: {exc}", file=sys.stderr)
            return 1
    _print_json(extracted.output)
    return 0


# Commands that adapters contribute, declared as entry points of this group in their packaging:
# the core never imports an adapter (the MCP server is an optional extra).
COMMANDS_GROUP = "smooth_agents.commands"


def _mcp(args: argparse.Namespace) -> int:
    from importlib.metadata import entry_points

    try:
        main = next(iter(entry_points(group=COMMANDS_GROUP, name="mcp"))).load()
    except (StopIteration, ImportError):
        print(
            "smooth-agents: the MCP server is not installed: pip install 'smooth-agents[mcp]'",
            file=sys.stderr,
        )
        return 2
    code: int = main(args.rest)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smooth-agents", description="Delegate web work to Smooth.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a one-shot task; progress on stderr, the result on stdout")
    run.add_argument("task", help="what to do, in plain language")
    run.add_argument("--url", help="the page to start from (required by the embedded local server)")
    run.add_argument("--schema", help="JSON schema of the answer: a file path or inline JSON")
    run.add_argument("--json", action="store_true", help="print the whole result (id, status, output...)")
    run.add_argument("--max-steps", type=int, default=32)
    run.add_argument("--timeout", type=float, default=None, help="seconds to wait before giving up")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(handler=lambda a: asyncio.run(_run_task(a)))

    extract = commands.add_parser("extract", help="extract structured data from a page with a JSON schema")
    extract.add_argument("url", help="the page to read")
    extract.add_argument("--schema", required=True, help="JSON schema: a file path or inline JSON")
    extract.add_argument("--prompt", help="what to look for, as a hint")
    extract.add_argument("--quiet", action="store_true", help="no progress on stderr")
    extract.set_defaults(handler=lambda a: asyncio.run(_extract(a)))

    mcp = commands.add_parser(
        "mcp", help="the MCP server (same as smooth-mcp; flags after 'mcp' go to it)", add_help=False
    )
    mcp.set_defaults(handler=_mcp)

    local = commands.add_parser("local", help="the self-hosted Smooth-compatible server")
    local_commands = local.add_subparsers(dest="local_command", required=True)
    serve = local_commands.add_parser("serve", help="serve the Smooth API on this machine")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8321, help="port (default 8321)")
    serve.add_argument(
        "--api-key",
        action="append",
        help="accepted API key (repeatable; default $SMOOTH_LOCAL_API_KEY, else one is generated); "
        "prefer the environment variable: a flag is visible to other users in the process list",
    )
    serve.add_argument("--allow-host", action="append", help="extra Host header value to accept")
    serve.add_argument("--data-dir", help="where profiles and files live (default ~/.smooth-agents/local)")
    serve.add_argument("--max-sessions", type=int, default=16, help="concurrent sessions and tasks")
    serve.add_argument(
        "--idle-timeout", type=float, default=300.0, help="seconds before an idle session closes"
    )
    serve.add_argument("--max-task-duration", type=float, default=1800.0, help="seconds a task may run")
    serve.add_argument(
        "--max-request-bytes",
        type=int,
        default=10 * 1024 * 1024,
        help="largest JSON request body (413 past it)",
    )
    serve.add_argument(
        "--max-upload-bytes", type=int, default=100 * 1024 * 1024, help="largest uploaded file (413 past it)"
    )
    serve.add_argument(
        "--max-output-chars",
        type=int,
        default=10_000_000,
        help="largest result of one action or task, as JSON characters (the action fails past it)",
    )
    serve.add_argument(
        "--max-download-bytes",
        type=int,
        default=200 * 1024 * 1024,
        help="what one task may keep of its downloads, screenshots and PDFs (later ones are refused)",
    )
    serve.add_argument(
        "--max-task-tokens",
        type=int,
        default=None,
        help="tokens (input and output) a model-driven task may use; a task's metadata max_tokens may "
        "ask for fewer (default: no bound but max_steps)",
    )
    serve.add_argument(
        "--settle-cap",
        type=float,
        default=1.0,
        help="seconds a model agent's action waits at most for what it started (requests, timers, DOM "
        "changes) before the page state answers it; 0 waits only for a navigation (default 1.0)",
    )
    serve.add_argument(
        "--no-recording",
        action="store_true",
        help="record no task's video, whatever enable_recording says (default $SMOOTH_LOCAL_RECORDING, on)",
    )
    serve.add_argument(
        "--scripted-agent",
        action="store_true",
        help='run tasks whose text starts with "script:" as JSON step lists (tests, demos)',
    )
    serve.add_argument(
        "--model",
        help="a model for plain-language tasks, provider:model (e.g. openai:gpt-4o-mini, ollama:llama3.1); "
        "default SMOOTH_LOCAL_MODEL, else none (the reader)",
    )
    serve.add_argument("--browser", help="Chromium executable (default: Playwright's, else chromium on PATH)")
    serve.add_argument(
        "--browser-cdp-endpoint",
        help="use running browsers (grid nodes) over CDP, e.g. http://host:9222; several, comma-separated, "
        "make a pool (docs/browser-pool.md)",
    )
    serve.add_argument(
        "--browser-ws-endpoint",
        help="use Playwright browser servers at these ws:// URLs (comma-separated; a pool with the CDP ones)",
    )
    serve.add_argument(
        "--browser-endpoint-capacity",
        type=int,
        default=None,
        help="sessions and tasks one endpoint holds at once (default: no bound but --max-sessions)",
    )
    serve.add_argument(
        "--browser-health-interval",
        type=float,
        default=5.0,
        help="seconds between health checks of each endpoint; one that fails is taken out (default 5)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=_local_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command != "mcp" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    level = logging.INFO if args.command == "local" else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.handler(args)
    except ConfigurationError as exc:
        print(f"smooth-agents: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # The task was cancelled remotely on the way out (result() cancels when abandoned).
        print("smooth-agents: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
