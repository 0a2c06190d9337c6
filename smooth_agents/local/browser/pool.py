"""A pool of browsers that live elsewhere: several CDP or Playwright endpoints, one of which each
new context (a task's or a session's browser) is opened on.

Placement: the up browser with the fewest open contexts (ties go to the one used least
recently), never past a browser's capacity. Health: each browser is checked every
``health_interval`` seconds by a round trip over its connection; one that disconnects or fails
its check is taken out at once, and what it held is lost with a reason that names it. A browser
that is out is tried again at each check and rejoins the pool once it answers.

Taking a browser out cuts its connection on this side, which fails at once every call still
waiting on it: a browser that hangs (a stopped process, a network that drops packets) cannot hold
a task or a session forever. A Playwright server's connection (ws endpoints) is cut by closing it
here, so those share one Playwright driver; a CDP connection lives inside the driver, which
waits on a hung browser, so each CDP browser has a driver of its own, stopped to cut it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .opening import kept_or_closed

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, CDPSession, Playwright

log = logging.getLogger("smooth_agents.local.browser_pool")

Kind = Literal["cdp", "ws"]
# Why a browser whose connection ended is out (the event, or a health check that met the end first).
DISCONNECTED = "disconnected (it stopped, crashed or its connection dropped)"
_SCHEMES: dict[Kind, tuple[str, ...]] = {"cdp": ("http", "https", "ws", "wss"), "ws": ("ws", "wss")}
_FLAGS: dict[Kind, str] = {"cdp": "--browser-cdp-endpoint", "ws": "--browser-ws-endpoint"}
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    """One browser of the pool: where it is, how it is reached, and its place in the list."""

    url: str = field(repr=False)  # may carry a token (browserless) or a secret path (launch-server)
    kind: Kind
    number: int  # 1-based, in the order given (CDP endpoints first, then ws ones)

    @property
    def name(self) -> str:
        """How messages and logs name it: its number and host, never a token or a path."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        if ":" in host:
            host = f"[{host}]"
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        return f"browser {self.number} ({parts.scheme}://{host}:{port})"

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


def parse_endpoints(cdp: str | None, ws: str | None) -> list[Endpoint]:
    """The pool's endpoints from the two settings, each a comma-separated list (one endpoint is
    a list of one). Raises ValueError naming the flag and the item that is not an endpoint."""
    items: list[tuple[Kind, str]] = []
    given: tuple[tuple[Kind, str | None], ...] = (("cdp", cdp), ("ws", ws))
    for kind, text in given:
        if not text:
            continue
        for raw in text.split(","):
            url = raw.strip()
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 - a port past 65535 raises here
            except ValueError:
                parts = parts._replace(netloc="")
            if not url or parts.scheme not in _SCHEMES[kind] or not parts.hostname:
                shown = repr(url) if url else "an empty item"
                raise ValueError(
                    f"{_FLAGS[kind]}: {shown} is not an endpoint; give one or more comma-separated "
                    f"URLs ({' or '.join(s + '://' for s in _SCHEMES[kind])}host:port...)."
                )
            items.append((kind, url))
    return [Endpoint(url, kind, number) for number, (kind, url) in enumerate(items, start=1)]


class PoolUnavailable(Exception):
    """No browser of the pool can take a new context: every one is full or out.
    ``status`` is what the API answers (429 when some are only full, 503 when all are out)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class _Member:
    endpoint: Endpoint
    capacity: int | None
    state: Literal["new", "up", "down"] = "new"
    reason: str = ""  # why it is down
    playwright: Playwright | None = None  # the driver of its own (a CDP browser), while connected
    browser: Browser | None = None
    probe: CDPSession | None = None
    contexts: set[BrowserContext] = field(default_factory=set)
    pending: int = 0  # contexts being opened on it
    generation: int = 0  # bumped each time it is taken out
    lost: dict[int, str] = field(default_factory=dict)  # generation -> why it ended
    last_placed: int = 0
    placed_total: int = 0
    connecting: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None
    stopping: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def load(self) -> int:
        return len(self.contexts) + self.pending

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.load < self.capacity


class BrowserPool:
    """Browsers reached over CDP or Playwright's protocol, shared out one context at a time."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        *,
        capacity: int | None = None,
        health_interval: float = 5.0,
        health_timeout: float = 5.0,
        connect_timeout: float = 15.0,
    ) -> None:
        if not endpoints:
            raise ValueError("a browser pool needs at least one endpoint")
        if capacity is not None and capacity < 1:
            raise ValueError("the browser endpoint capacity must be at least 1")
        if health_interval <= 0 or health_timeout <= 0 or connect_timeout <= 0:
            raise ValueError("the browser health interval and timeouts must be positive")
        self.capacity = capacity
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self.connect_timeout = connect_timeout
        self._members = [_Member(endpoint, capacity) for endpoint in endpoints]
        self._homes: weakref.WeakKeyDictionary[BrowserContext, tuple[_Member, int]] = (
            weakref.WeakKeyDictionary()
        )
        self._sequence = 0
        # The driver the ws browsers share (a CDP browser has its own: see the module's notes).
        self._shared_driver: Playwright | None = None
        self._driver_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._started = False
        self._closing = False

    # -- state ----------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._started

    @property
    def endpoints(self) -> list[Endpoint]:
        return [member.endpoint for member in self._members]

    def status(self) -> list[dict[str, Any]]:
        """Each browser's state, load, capacity and contexts placed on it so far (logs, benches)."""
        return [
            {
                "name": m.endpoint.name,
                "state": m.state,
                "load": m.load,
                "capacity": m.capacity,
                "placed": m.placed_total,
                "reason": m.reason if m.state == "down" else "",
            }
            for m in self._members
        ]

    def loss_reason(self, context: BrowserContext) -> str | None:
        """Why ``context`` is gone, when the browser it was opened on was taken out; else None."""
        home = self._homes.get(context)
        if home is None:
            return None
        member, generation = home
        return member.lost.get(generation)

    async def refusal(self) -> PoolUnavailable | None:
        """Why a new context would be refused now (every browser full or out), or None; the
        browsers that are out are tried once more first. Before the pool has started nothing is
        known yet, so nothing is refused."""
        if not self._started or self._has_room():
            return None
        await self._revive()
        return None if self._has_room() else self._unavailable()

    def _has_room(self) -> bool:
        return any(m.state == "up" and m.has_room for m in self._members)

    def _unavailable(self) -> PoolUnavailable:
        up = [m for m in self._members if m.state == "up"]
        parts = []
        for m in self._members:
            if m.state == "up":
                parts.append(f"{m.endpoint.name} full ({m.load}/{m.capacity})")
            else:
                parts.append(f"{m.endpoint.name} out: {m.reason or 'not connected yet'}")
        listed = "; ".join(parts)
        if up:
            return PoolUnavailable(
                f"Every browser of the pool is full or out ({listed}). Close a session or wait for a "
                "task to end, then retry.",
                429,
            )
        return PoolUnavailable(
            f"No browser of the pool is up ({listed}). Each is tried again every "
            f"{self.health_interval:g} s and takes work as soon as it answers; retry then.",
            503,
        )

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect every browser (at once, each bounded by the connect timeout) and start their
        health checks; safe to call again. Browsers that do not answer start out."""
        async with self._start_lock:
            if self._started or self._closing:
                return
            # Every browser is given the chance to join before work is placed (else the first to
            # answer would get it all); one slow to answer is waited for a health timeout past the
            # first that is up, at most, and then keeps connecting in the background.
            attempts = {self._reconnect(m) for m in self._members}
            deadline = time.monotonic() + self.connect_timeout
            while attempts:
                _, attempts = await asyncio.wait(
                    attempts,
                    timeout=max(0.0, deadline - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if any(m.state == "up" for m in self._members):
                    deadline = min(deadline, time.monotonic() + self.health_timeout)
                if time.monotonic() >= deadline:
                    break
            for member in self._members:
                member.watcher = asyncio.create_task(
                    self._watch(member), name=f"smooth-browser-health-{member.endpoint.number}"
                )
            self._started = True
            log.info("browser pool: %s", ", ".join(f"{s['name']} {s['state']}" for s in self.status()))

    async def aclose(self) -> None:
        """Close every context opened here, disconnect every browser (none is stopped: the pool
        did not start them) and stop the drivers; safe to call twice."""
        self._closing = True
        for member in self._members:
            for task in (member.watcher, member.connecting):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            member.watcher = member.connecting = None
        for member in self._members:
            await self._disconnect(member)
            if member.stopping:
                await asyncio.gather(*member.stopping, return_exceptions=True)
        shared, self._shared_driver = self._shared_driver, None
        if shared is not None:
            await _stop_quietly(shared)
        self._started = False

    async def _disconnect(self, member: _Member) -> None:
        from playwright.async_api import Error as PlaywrightError

        contexts, member.contexts = list(member.contexts), set()
        playwright, browser = member.playwright, member.browser
        member.playwright = member.browser = member.probe = None
        member.state = "down" if member.state == "up" else member.state
        if browser is not None:
            # One bound for all: a browser that hangs costs the shutdown a few seconds, no more.
            closing = [asyncio.ensure_future(context.close()) for context in contexts]
            if closing:
                await asyncio.wait(closing, timeout=self.health_timeout)
            for pending in closing:
                pending.cancel()
            await asyncio.gather(*closing, return_exceptions=True)
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await asyncio.wait_for(browser.close(), self.health_timeout)
        if playwright is not None:
            await _stop_quietly(playwright)

    async def _driver(self, endpoint: Endpoint) -> tuple[Playwright, bool]:
        """A driver to connect ``endpoint`` with, and whether it is the browser's own."""
        from playwright.async_api import async_playwright

        if endpoint.kind == "cdp":
            return await async_playwright().start(), True
        async with self._driver_lock:
            if self._shared_driver is None:
                self._shared_driver = await async_playwright().start()
            return self._shared_driver, False

    # -- connecting and checking --------------------------------------------------------------
    def _reconnect(self, member: _Member) -> asyncio.Task[None]:
        """The attempt to bring ``member`` up (one at a time, whoever asks)."""
        if member.connecting is None or member.connecting.done():
            member.connecting = asyncio.create_task(
                self._connect(member), name=f"smooth-browser-connect-{member.endpoint.number}"
            )
        return member.connecting

    async def _attempt(self, members: Sequence[_Member], timeout: float) -> None:
        """Try to bring the ``members`` that are not up up, waiting ``timeout`` seconds at most
        (attempts still going on then go on in the background)."""
        attempts = [self._reconnect(m) for m in members if m.state != "up" and not self._closing]
        if attempts:
            await asyncio.wait(attempts, timeout=timeout)

    async def _connect(self, member: _Member) -> None:
        endpoint = member.endpoint
        if member.stopping:  # the driver of its last connection is still being stopped
            await asyncio.gather(*member.stopping, return_exceptions=True)
        try:
            host, port = endpoint.address
            # A cheap look first: a browser that is plainly gone costs no driver start.
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), self.connect_timeout)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            self._set_down(member, f"unreachable ({type(exc).__name__}: {exc or 'no answer'})")
            return
        playwright, own = await self._driver(endpoint)
        try:
            timeout_ms = self.connect_timeout * 1000
            if endpoint.kind == "ws":
                browser = await playwright.chromium.connect(endpoint.url, timeout=timeout_ms)
            else:
                browser = await playwright.chromium.connect_over_cdp(endpoint.url, timeout=timeout_ms)
            probe = await asyncio.wait_for(browser.new_browser_cdp_session(), self.health_timeout)
            await asyncio.wait_for(probe.send("Browser.getVersion"), self.health_timeout)
        except BaseException as exc:  # cancelled too: no driver of its own is left running
            if own:
                await _stop_quietly(playwright)
            if not isinstance(exc, Exception):
                raise
            self._set_down(member, f"could not connect ({_said(exc)})")
            return
        if self._closing:
            await _stop_quietly(playwright) if own else await _close_quietly(browser)
            return
        rejoined = member.state == "down"
        member.playwright, member.browser, member.probe = (playwright if own else None), browser, probe
        member.state, member.reason = "up", ""
        generation = member.generation
        browser.on("disconnected", lambda _: self._on_disconnected(member, generation))
        if rejoined:
            log.warning("%s is back and rejoins the pool", endpoint.name)

    def _set_down(self, member: _Member, why: str) -> None:
        if member.state != "down" or member.reason != why:
            log.warning("%s is out of the pool: %s", member.endpoint.name, why)
        member.state, member.reason = "down", why

    def _on_disconnected(self, member: _Member, generation: int) -> None:
        if member.generation == generation and not self._closing:
            self._take_out(member, DISCONNECTED)

    def _take_out(self, member: _Member, why: str) -> None:
        """Mark ``member`` out now; what was open on it is lost with a reason naming it, and its
        connection is cut, which fails every call still waiting on it."""
        if member.state != "up":
            return
        # Counted from the homes: a browser that closes sends its contexts' close events first.
        sessions = sum(1 for home in self._homes.values() if home == (member, member.generation))
        member.lost[member.generation] = (
            f"The browser this ran on, {member.endpoint.name}, {why}; it was taken out of the pool. "
            "Start a new session or task: it goes to a browser that is up."
        )
        member.generation += 1
        member.contexts = set()
        playwright, browser = member.playwright, member.browser
        member.playwright = member.browser = member.probe = None
        self._set_down(member, why)
        log.warning("%s taken out of the pool with %d open session(s)", member.endpoint.name, sessions)
        # Its own driver is stopped; a shared driver's connection is closed on this side.
        if playwright is not None or browser is not None:
            cutting = _stop_quietly(playwright) if playwright is not None else _close_quietly(browser)
            stopping = asyncio.get_running_loop().create_task(cutting)
            member.stopping.add(stopping)
            stopping.add_done_callback(member.stopping.discard)

    async def _watch(self, member: _Member) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                if member.state == "up":
                    failure = await self._check(member)
                    if failure == DISCONNECTED:
                        self._take_out(member, DISCONNECTED)
                    elif failure:
                        self._take_out(member, f"failed its health check ({failure})")
                elif not self._closing:
                    await asyncio.shield(self._reconnect(member))
            except Exception:  # keep checking: one odd failure must not end the checks for good
                log.exception("health check of %s", member.endpoint.name)

    async def _check(self, member: _Member) -> str:
        """ "" when ``member`` answered a round trip in time, else what went wrong."""
        probe, generation = member.probe, member.generation
        if probe is None:
            return "no connection"
        started = time.monotonic()
        try:
            await asyncio.wait_for(probe.send("Browser.getVersion"), self.health_timeout)
        except TimeoutError:
            return f"no answer within {self.health_timeout:g} s"
        except Exception as exc:
            if member.generation != generation:
                return ""  # taken out meanwhile (a disconnect): already handled
            if _is_its_end(exc, member.browser):
                return DISCONNECTED
            return _said(exc)
        log.debug("%s answered in %.0f ms", member.endpoint.name, (time.monotonic() - started) * 1000)
        return ""

    # -- placing work -------------------------------------------------------------------------
    def _place(self, tried: set[_Member]) -> _Member | None:
        candidates = [m for m in self._members if m.state == "up" and m.has_room and m not in tried]
        if not candidates:
            return None
        return min(candidates, key=lambda m: (m.load, m.last_placed))

    async def browser(self) -> Browser:
        """The least-loaded browser that is up (starting the pool on first use)."""
        await self.start()
        member = self._place(set())
        if member is None or member.browser is None:
            await self._revive()
            member = self._place(set())
        if member is None or member.browser is None:
            raise self._unavailable()
        return member.browser

    async def _revive(self) -> None:
        """Try the browsers that are out once more, now (a restarted browser serves at once),
        waiting no longer than a health check would."""
        await self._attempt([m for m in self._members if m.state == "down"], self.health_timeout)

    async def new_context(self, **options: Any) -> BrowserContext:
        """A new context on the least-loaded browser that is up and has room; PoolUnavailable when
        none has (after one more try of the browsers that are out)."""
        from playwright.async_api import Error as PlaywrightError

        await self.start()
        tried: set[_Member] = set()
        revived = False
        while True:
            member = self._place(tried)
            if member is None:
                if not revived and any(m.state == "down" for m in self._members):
                    revived = True
                    await self._revive()
                    continue
                raise self._unavailable()
            browser, generation = member.browser, member.generation
            assert browser is not None
            self._sequence += 1
            member.last_placed = self._sequence
            member.pending += 1
            try:
                context = await kept_or_closed(browser.new_context(**options), _close_context)
            except PlaywrightError as exc:
                if member.generation == generation and not _is_its_end(exc, browser):
                    raise  # the browser is fine: the options were refused
                # Taken out while the context opened, or it ended before its "disconnected" event
                # came: either way another browser.
                if member.generation == generation:
                    self._take_out(member, DISCONNECTED)
                tried.add(member)
                continue
            finally:
                member.pending -= 1
            if member.generation != generation:
                with contextlib.suppress(PlaywrightError):
                    await context.close()
                tried.add(member)
                continue
            member.placed_total += 1
            member.contexts.add(context)
            self._homes[context] = (member, generation)
            context.on("close", functools.partial(_forget, member.contexts, context))
            return context


def _forget(contexts: set[BrowserContext], context: BrowserContext, _: object) -> None:
    contexts.discard(context)  # the set of the generation it was opened in


async def _stop_quietly(playwright: Playwright) -> None:
    with contextlib.suppress(Exception):
        await playwright.stop()


async def _close_quietly(browser: Browser | None) -> None:
    """Close a connection to a Playwright server (immediate, on this side)."""
    if browser is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(browser.close(), 10)


def _is_its_end(exc: BaseException, browser: Browser | None) -> bool:
    """Whether ``exc`` is a browser's end met by a call before its "disconnected" event came:
    it then counts as that event, whichever of the two is seen first."""
    return "has been closed" in str(exc) or (browser is not None and not browser.is_connected())


def _said(exc: BaseException) -> str:
    """The first line of an error about an endpoint, each address in it cut to its origin: an
    endpoint's path and query may be its secret (a launch-server path, a browserless token)."""
    return _ADDRESS.sub(lambda found: _origin(found.group()), _first_line(exc))


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an address)"
    host = parts.hostname or ""
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{port}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _close_context(context: BrowserContext) -> None:
    await context.close()
