"""Settings of the self-hosted Smooth-compatible server."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def default_data_dir() -> Path:
    """Where profiles, uploaded files and extensions live unless told otherwise."""
    configured = os.environ.get("SMOOTH_LOCAL_DATA_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".smooth-agents" / "local"


def _switched_on(variable: str) -> bool:
    """An on/off setting's default from the environment: on unless 0, false, no or off."""
    return os.environ.get(variable, "1").strip().lower() not in ("0", "false", "no", "off")


# A Host header: a bracketed IPv6 address or a name, then an optional numeric port; nothing else.
_HOST_HEADER = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")


@dataclass
class LocalServerSettings:
    """Everything the local server needs to know; the CLI and tests build one of these.

    ``api_keys`` are secrets: the dataclass repr hides them.
    """

    api_keys: frozenset[str] = field(default_factory=frozenset, repr=False)
    host: str = "127.0.0.1"
    port: int = 8321
    data_dir: Path = field(default_factory=default_data_dir)
    # Extra Host header values accepted besides loopback names and the bind host
    # (for a reverse proxy in front of the server, or the in-process transport).
    allowed_hosts: frozenset[str] = frozenset()
    # Base URL people use to reach this server (live views); default: the request's own base.
    public_url: str | None = None
    max_concurrent_sessions: int = 16
    session_idle_timeout: float = 300.0
    max_task_duration: float = 1800.0
    # Finished tasks (their events and outputs) are kept this long, and at most this many.
    task_retention: float = 3600.0
    max_finished_tasks: int = 1000
    # How long one browser action (goto, extract, evaluate_js) may take.
    action_timeout: float = 30.0
    # How long a model agent's action (a click, typing) waits at most for what it started (the
    # requests, timers and DOM changes after it; see local/agents/settle.py) before the page state
    # answers it, in seconds; 0: only for a navigation's document.
    settle_cap: float = 1.0
    # Size limits (answered 413, or an action failing with the reason): a JSON request body, an
    # uploaded file or extension, and one action's or task's output (characters of its JSON).
    max_request_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 100 * 1024 * 1024
    max_output_chars: int = 10_000_000
    # What one task may keep of the files its page downloads, with its agent's screenshots and
    # PDFs (all together; later ones are refused and the task's events say so).
    max_download_bytes: int = 200 * 1024 * 1024
    # The tokens (input and output) a model-driven task may use; a task's metadata may ask for
    # fewer (``max_tokens``). None: no bound but max_steps.
    max_task_tokens: int | None = None
    # Video recordings of tasks that ask for one (enable_recording, which the API defaults to
    # true). False: no task is recorded, and recording_url comes back empty.
    recording: bool = field(default_factory=lambda: _switched_on("SMOOTH_LOCAL_RECORDING"))
    # A context and page opened as a browser launched here starts, for its first session (see
    # local/browser/spare.py). False (SMOOTH_LOCAL_SPARE_CONTEXT=0): the first session opens its own.
    spare_context: bool = field(default_factory=lambda: _switched_on("SMOOTH_LOCAL_SPARE_CONTEXT"))
    # Browser: a local executable, or an existing browser grid.
    browser_executable: str | None = None
    browser_ws_endpoint: str | None = None
    browser_cdp_endpoint: str | None = None
    # With several endpoints (comma-separated in either setting): the contexts one may hold at
    # once (None: no bound but max_concurrent_sessions), and how often each is health-checked.
    browser_endpoint_capacity: int | None = None
    browser_health_interval: float = 5.0
    headless: bool = True
    # Tasks whose text starts with "script:" run the scripted agent (JSON steps). Off by
    # default: it exists for tests and demos that drive the agent seam over the wire.
    enable_scripted_agent: bool = False
    # A model for plain-language tasks: "provider:model" (SMOOTH_LOCAL_MODEL; any provider
    # LangChain's init_chat_model knows) or a LangChain chat model object. None: the reader.
    model: Any = field(
        default_factory=lambda: os.environ.get("SMOOTH_LOCAL_MODEL", "").strip() or None, repr=False
    )

    def __post_init__(self) -> None:
        if self.max_concurrent_sessions < 1:
            raise ValueError("max_concurrent_sessions must be at least 1")
        if self.session_idle_timeout <= 0 or self.max_task_duration <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_download_bytes < 0:
            raise ValueError("max_download_bytes must not be negative")
        if self.settle_cap < 0:
            raise ValueError("settle_cap must not be negative")
        if self.browser_endpoint_capacity is not None and self.browser_endpoint_capacity < 1:
            raise ValueError("browser_endpoint_capacity must be at least 1")
        if self.browser_health_interval <= 0:
            raise ValueError("browser_health_interval must be positive")
        if self.max_task_tokens is not None and self.max_task_tokens < 1:
            raise ValueError("max_task_tokens must be at least 1")

    def accepts_host(self, host_header: str) -> bool:
        """True when a request's Host header names this server (DNS-rebinding guard): a known
        name and nothing after it but a numeric port (a proxy in front may map the port)."""
        found = _HOST_HEADER.fullmatch(host_header.strip().lower())
        if found is None:
            return False
        name = found.group("name")
        allowed = LOOPBACK_HOSTS | {self.host.lower()} | {h.lower() for h in self.allowed_hosts}
        return name in allowed

    @staticmethod
    def generate_api_key() -> str:
        return "sk-local-" + secrets.token_urlsafe(24)
