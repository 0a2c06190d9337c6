"""``--shared-browser``: with no Smooth key, this user's shared local server instead of one in this
process (``smooth_agents.shared_server`` says how it is found, who can use it and when it ends).

Looked for first thing, before the MCP stack loads (the search, and a start when none runs, go on
on a thread meanwhile): nothing here imports the MCP stack or Playwright.
"""

from __future__ import annotations

import importlib.util
import logging

from smooth_agents.config import resolve_config
from smooth_agents.shared_server import SharedLocalServer, SharedServerUnavailable

from .settings import MCPSettings

log = logging.getLogger("smooth_agents.mcp")


def find_shared_browser(settings: MCPSettings, *, log_level: str = "warning") -> SharedLocalServer | None:
    """The shared server the tools will use, or None: the flag is off, a Smooth key is set (the
    cloud answers), or no shared server can be used here (the local server then runs in this
    process, as without the flag)."""
    if not settings.shared_browser:
        return None
    try:
        if resolve_config().api_key is not None:
            log.warning("--shared-browser has no effect: a Smooth API key is set, so the cloud is used")
            return None
    except ValueError:  # a base URL without a key: the client says so on its first call
        return None
    if importlib.util.find_spec("playwright") is None:
        return None  # the client says what to install, on the first call
    try:
        # Sessions outlive the processes that opened them: the server closes them when idle.
        return SharedLocalServer.find_or_start(
            idle_timeout=settings.shared_browser_idle,
            session_idle_timeout=settings.session_ttl,
            model=settings.local_model,
            log_level=log_level,
        )
    except SharedServerUnavailable as exc:
        log.warning("no shared browser (%s): this process starts a browser of its own", exc)
        return None
