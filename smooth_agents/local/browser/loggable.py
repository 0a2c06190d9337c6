"""What the server's logs may say of an address a page chose: where it went (scheme, host, port
and path), never what it carried. A page that sends a secret out puts it in the query, the
fragment or the user and password of the address it asks for, and the logs are read by more
people, and kept longer, than the task's own answer.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_PATH = 200
# An absolute address inside a message (a Playwright error names the URL it failed on).
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|(?:data|blob|javascript):)[^\s'\"<>]+", re.IGNORECASE)


def url_for_log(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url``, without its user, password, query or fragment;
    of an address with no host (``data:``, ``blob:``, ``javascript:``), its scheme only."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not even an address (an IPv6 host left open)
        return "(an unreadable address)"
    scheme = parts.scheme.lower()
    if scheme == "about":  # about:blank, about:srcdoc: nothing a page put there
        return f"about:{parts.path}"
    if not parts.netloc:
        return f"{scheme}:…" if scheme else "(an address without a scheme)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # outside 0-65535: not a port to name
        port = None
    where = f"{host}:{port}" if port is not None else host
    path = parts.path if len(parts.path) <= MAX_PATH else parts.path[:MAX_PATH] + "…"
    return f"{scheme}://{where}{path}"


def scrub_urls(text: str) -> str:
    """``text`` (an error message) with each address in it as ``url_for_log`` gives it."""
    return _URL.sub(lambda found: url_for_log(found.group()), text)
