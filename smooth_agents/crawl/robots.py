"""robots.txt: which URLs of an origin a crawl may visit, and the sitemaps it names.

Parsed by protego, which reads rules as RFC 9309 and the big crawlers do (path wildcards and
``$``, the longest matching rule wins, ``Allow`` on a tie); the standard library's robotparser
does neither.
"""

from __future__ import annotations

from collections.abc import Callable

from protego import Protego

from .fetch import Fetcher, FetchError

# The product token a robots.txt group names to address us; robots.txt matching is by token.
ROBOTS_USER_AGENT = "smooth-agents"
# RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt; what follows may be ignored.
ROBOTS_MAX_BYTES = 512 * 1024


class RobotsRules:
    """The robots.txt rules of one origin, for one user agent. ``note`` says how they were
    found (read, absent, unreachable) for reports."""

    def __init__(
        self, parser: Protego | None, user_agent: str, *, allow_all: bool = True, note: str = ""
    ) -> None:
        self._parser = parser
        self._user_agent = user_agent
        self._allow_all = allow_all
        self.note = note

    @classmethod
    def parse(cls, text: str, user_agent: str = ROBOTS_USER_AGENT) -> RobotsRules:
        return cls(Protego.parse(text), user_agent, note="read")

    @classmethod
    def allowing_all(cls, note: str = "no robots.txt") -> RobotsRules:
        return cls(None, ROBOTS_USER_AGENT, allow_all=True, note=note)

    @classmethod
    def disallowing_all(cls, note: str) -> RobotsRules:
        return cls(None, ROBOTS_USER_AGENT, allow_all=False, note=note)

    def allows(self, url: str) -> bool:
        if self._parser is None:
            return self._allow_all
        return bool(self._parser.can_fetch(url, self._user_agent))

    @property
    def sitemaps(self) -> tuple[str, ...]:
        return tuple(self._parser.sitemaps) if self._parser is not None else ()

    @property
    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self._user_agent)
        return float(delay) if delay is not None else None


async def load_robots(
    fetcher: Fetcher,
    origin: str,
    user_agent: str = ROBOTS_USER_AGENT,
    *,
    allow: Callable[[str], bool] | None = None,
) -> RobotsRules:
    """The rules of ``origin`` (``scheme://host[:port]``), read as RFC 9309 says: a robots.txt
    that is missing (any 4xx) allows everything; one that cannot be reached (5xx, 429, a failed
    connection) disallows everything, since its rules are unknown."""
    url = f"{origin}/robots.txt"
    try:
        fetched = await fetcher.get(url, allow=allow, max_bytes=ROBOTS_MAX_BYTES)
    except FetchError as exc:
        return RobotsRules.disallowing_all(f"robots.txt unreachable ({exc}): nothing is visited")
    if fetched.ok:
        return RobotsRules(Protego.parse(fetched.text()), user_agent, note=f"read from {fetched.url}")
    if fetched.status == 429 or fetched.status >= 500:
        return RobotsRules.disallowing_all(
            f"robots.txt answered {fetched.status}: nothing is visited until it can be read"
        )
    return RobotsRules.allowing_all(f"robots.txt answered {fetched.status}: everything allowed")
