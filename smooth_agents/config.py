"""Where the client connects and with which key: explicit arguments, else the environment.

With no key at all the client runs the embedded local server in process (and says so once on
stderr). The key is held as a ``SecretStr`` so it never shows in a repr or a log line.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

DEFAULT_BASE_URL = "https://api.smooth.sh/api/"
API_VERSION = "v1"
KEY_VARIABLES = ("SMOOTH_API_KEY", "CIRCLEMIND_API_KEY")
log = logging.getLogger("smooth_agents")


def is_placeholder(key: str) -> bool:
    """A key left as a template's placeholder (``<your Smooth API key ...>``, ``YOUR_KEY``)."""
    text = key.strip()
    return (text.startswith("<") and text.endswith(">")) or text.upper() in {
        "YOUR_API_KEY",
        "YOUR_KEY",
        "CHANGEME",
    }


@dataclass(frozen=True)
class ClientConfig:
    """Resolved connection settings. ``api_key`` None means: use the embedded local server."""

    api_key: SecretStr | None
    base_url: str
    timeout: float = 30.0
    max_retries: int = 3
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.api_key is None

    @property
    def api_url(self) -> str:
        """The versioned API root, e.g. ``https://api.smooth.sh/api/v1``."""
        return versioned(self.base_url)


def versioned(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith("/" + API_VERSION) else f"{base}/{API_VERSION}"


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def resolve_config(
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    *,
    timeout: float = 30.0,
    max_retries: int = 3,
) -> ClientConfig:
    """Arguments win over ``SMOOTH_API_KEY`` / ``CIRCLEMIND_API_KEY`` and ``SMOOTH_BASE_URL``."""
    key: SecretStr | None
    if isinstance(api_key, SecretStr):
        key = api_key if api_key.get_secret_value() else None
    else:
        key = SecretStr(api_key) if api_key else None
    if key is None:
        for variable in KEY_VARIABLES:
            value = os.environ.get(variable, "").strip()
            if value and is_placeholder(value):
                # A config pasted as printed (smooth-mcp --print-config): never sent to the cloud.
                log.warning("%s holds a placeholder, not a key: using the embedded local server", variable)
            elif value:
                key = SecretStr(value)
                break
    url = base_url or os.environ.get("SMOOTH_BASE_URL", "").strip() or None
    if url is not None and not _is_http_url(url):
        raise ValueError(f"SMOOTH_BASE_URL / base_url must be an http:// or https:// address, not {url!r}.")
    if key is None and url is not None:
        raise ValueError(
            f"SMOOTH_BASE_URL / base_url is set to {url!r} but no API key was given: set "
            "SMOOTH_API_KEY (or pass api_key=...), or unset the base URL to use the embedded local server."
        )
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    if max_retries < 0:
        raise ValueError("max_retries must be zero or more")
    return ClientConfig(
        api_key=key, base_url=url or DEFAULT_BASE_URL, timeout=timeout, max_retries=max_retries
    )
