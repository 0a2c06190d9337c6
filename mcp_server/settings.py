"""Settings of the MCP server, from flags and the environment alike (flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from smooth_agents.agent_tools import ToolSettings

Transport = Literal["stdio", "sse", "streamable-http"]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# With several tokens each must be this long: a comma in one long token must not quietly make two
# short, guessable ones.
MIN_LISTED_TOKEN = 16


@dataclass
class MCPSettings:
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    # Required when binding beyond loopback; compared in constant time, never logged. Several
    # tokens, comma-separated, give several clients sessions of their own (see callers.py).
    auth_token: str | None = field(default=None, repr=False)
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    stateless_http: bool = False
    session_ttl: float = 900.0
    max_sessions: int = 8
    # The embedded local server's model for plain-language tasks: "host" (each MCP client's own
    # model, through sampling) or "provider:model"; None: SMOOTH_LOCAL_MODEL, else the reader.
    local_model: str | None = None
    # With no Smooth key: use this user's shared local server (started by the first process, found
    # by the next, ended after ``shared_browser_idle`` seconds idle), so that a host starting a
    # process per call neither starts a browser per call nor loses its sessions between calls.
    shared_browser: bool = False
    shared_browser_idle: float = 600.0
    # A store replicas share what they must remember in (redis://...; see state_store); None:
    # this process's memory. May hold a password: never shown.
    state_url: str | None = field(default=None, repr=False)
    tools: ToolSettings = field(default_factory=ToolSettings)

    @property
    def auth_tokens(self) -> tuple[str, ...]:
        return tuple(token.strip() for token in (self.auth_token or "").split(",") if token.strip())

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK

    def check(self) -> None:
        """Refuse unsafe combinations before anything starts."""
        if self.transport != "stdio" and not self.loopback and not self.auth_tokens:
            raise SystemExit(
                f"smooth-mcp: refusing to listen on {self.host} without a bearer token; "
                "pass --auth-token (or set SMOOTH_MCP_AUTH_TOKEN), or bind 127.0.0.1."
            )
        tokens = self.auth_tokens
        if len(tokens) > 1 and min(len(token) for token in tokens) < MIN_LISTED_TOKEN:
            raise SystemExit(
                f"smooth-mcp: --auth-token holds {len(tokens)} comma-separated tokens, one shorter "
                f"than {MIN_LISTED_TOKEN} characters; give each client a long random token "
                "(a comma separates tokens, so a token cannot contain one)."
            )
        if self.port <= 0 or self.port > 65535:
            raise SystemExit(f"smooth-mcp: invalid port {self.port}")
        if self.shared_browser_idle <= 0:
            raise SystemExit("smooth-mcp: --shared-browser-idle must be more than 0 seconds")
        if self.shared_browser and self.local_model == "host":
            raise SystemExit(
                "smooth-mcp: --shared-browser cannot lend the browser agent this host's model "
                "(--local-model host reaches it through this process only): drop one of them."
            )


def env_default(name: str, fallback: str) -> str:
    return os.environ.get(name, "").strip() or fallback


def env_flag(name: str) -> bool:
    """A yes/no variable: 1, true, yes or on (any case) mean yes."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, *, paths: bool = False) -> tuple[str, ...]:
    """A list variable: comma-separated; a list of folders may also use the path separator (a
    host or an origin may hold a colon, so those split on commas only)."""
    raw = os.environ.get(name, "")
    if paths:
        raw = raw.replace(os.pathsep, ",")
    return tuple(part.strip() for part in raw.split(",") if part.strip())
