"""Where browsers come from: one shared Chromium, started on first use, one context per task.

``BrowserProvider`` is the seam for where browsers live (a local Chromium here, or an existing
grid through Playwright's remote connect or a CDP endpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from ...private_folder import FolderNotPrivate, private_folder
from .opening import kept_or_closed
from .pool import BrowserPool, PoolUnavailable, parse_endpoints
from .proxy import ProxyGate, Upstream
from .spare import Opened, Spare
from .url_policy import UrlPolicy

log = logging.getLogger("smooth_agents.local.browser")  # the name it had before the split

# Flags for a headless Chromium on a closed network: without the background-networking ones,
# Chromium keeps trying to reach Google's hosts and logs refused connections.
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    # WebRTC sends no UDP that does not pass a proxy: a context behind a proxy gate (a task with
    # allowed_urls) then reaches STUN and TURN servers only by TURN over TCP through its gate,
    # which judges the TURN host like any other. Contexts without a gate use TURN over TCP only.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)


# The desktop device's context options (browser.DEVICE_OPTIONS): what a plain session asks for, and
# so what the spare context is opened with.
DESKTOP_OPTIONS: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}


def find_chromium(configured: str | None, playwright: Playwright) -> str | None:
    """The Chromium to launch: the configured one, Playwright's own, else the system's.

    ``None`` lets Playwright pick its bundled build (present when ``playwright install`` ran).
    """
    if configured:
        return configured
    if os.path.exists(playwright.chromium.executable_path):
        return None
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "No Chromium found: install one (Debian: `apt-get install -y chromium`; elsewhere "
        "`playwright install chromium`) or set SMOOTH_LOCAL_BROWSER to its path."
    )


@contextlib.contextmanager
def node_compile_cache() -> Iterator[None]:
    """Let the Playwright driver (a Node.js process) keep its compiled code between starts.

    Node compiles the driver's modules at every start; with NODE_COMPILE_CACHE it keeps the result
    in a folder and reuses it, which takes about a third off the driver's start (400 ms to 280 ms
    here): the first page of every fresh process comes that much sooner. The folder is this user's
    alone (a cache another user could write to would run their code in the driver). Nothing is done
    where the variable is already set, or where NODE_DISABLE_COMPILE_CACHE turns the cache off; the
    variable is set only while the driver starts (its process takes a copy of the environment).
    """
    if "NODE_COMPILE_CACHE" in os.environ or os.environ.get("NODE_DISABLE_COMPILE_CACHE"):
        yield
        return
    cache_home = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    try:
        folder = private_folder(Path(cache_home) / "smooth-agents" / "node-compile-cache")
    except FolderNotPrivate as exc:
        log.info("the Playwright driver starts without a compile cache: %s", exc)
        yield
        return
    os.environ["NODE_COMPILE_CACHE"] = str(folder)
    try:
        yield
    finally:
        os.environ.pop("NODE_COMPILE_CACHE", None)


class BrowserProvider:
    """Owns the Playwright driver and the shared browser, started on first use."""

    def __init__(
        self,
        *,
        executable: str | None = None,
        ws_endpoint: str | None = None,
        cdp_endpoint: str | None = None,
        headless: bool = True,
        endpoint_capacity: int | None = None,
        health_interval: float = 5.0,
        spare: bool = True,
    ) -> None:
        self._executable = executable or os.environ.get("SMOOTH_LOCAL_BROWSER") or None
        if self._executable and not (os.path.isfile(self._executable) or shutil.which(self._executable)):
            raise ValueError(
                f"The browser {self._executable!r} (--browser / SMOOTH_LOCAL_BROWSER) is not a file "
                "nor a command on PATH: point it at a Chromium, or unset it to use Playwright's."
            )
        # Browsers that live elsewhere (one endpoint or several, comma-separated): a pool places
        # each context on one of them (pool.py).
        endpoints = parse_endpoints(cdp_endpoint, ws_endpoint)
        self.pool = (
            BrowserPool(endpoints, capacity=endpoint_capacity, health_interval=health_interval)
            if endpoints
            else None
        )
        self._headless = headless
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self._contexts: set[BrowserContext] = set()
        self._told_remote_network = False
        # Set once a page could not be recorded for want of Playwright's ffmpeg: why, for the
        # tasks that ask for a recording (none tries again).
        self.recorder_missing = ""
        # A context and page opened as the browser starts, for its first plain session (spare.py):
        # for a browser launched here only, since a pool's browsers have capacities to keep.
        self._spare = Spare(DESKTOP_OPTIONS, self._open_spare) if spare and self.pool is None else None

    @property
    def started(self) -> bool:
        return self._browser is not None or (self.pool is not None and self.pool.started)

    async def browser(self) -> Browser:
        if self.pool is not None:
            return await self.pool.browser()
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                self._browser = await self._start()
                if self._spare is not None:
                    self._spare.prepare()
            return self._browser

    async def _open_spare(self) -> Opened:
        context = await self.new_context(**DESKTOP_OPTIONS)
        try:
            return context, await context.new_page()
        except BaseException:
            with contextlib.suppress(PlaywrightError):
                await context.close()
            raise

    async def take_spare(self, options: Mapping[str, Any]) -> Opened | None:
        """The spare context and its page, if it was opened with ``options`` (before the
        ``accept_downloads`` that ``new_context`` adds); else None: open one."""
        return await self._spare.take(options) if self._spare is not None else None

    async def _start(self) -> Browser:
        if self._playwright is None:
            with node_compile_cache():
                self._playwright = await async_playwright().start()
        chromium = self._playwright.chromium
        executable = find_chromium(self._executable, self._playwright)
        args = list(CHROMIUM_ARGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root.
            log.warning(
                "running as root: Chromium starts without its sandbox, so a hostile page that "
                "exploits the browser reaches this user; run the server as an unprivileged user"
            )
        started = time.perf_counter()
        browser = await chromium.launch(
            executable_path=executable, headless=self._headless, args=args, handle_sigterm=False
        )
        log.info("browser started in %.0f ms (%s)", (time.perf_counter() - started) * 1000, executable)
        return browser

    @property
    def remote(self) -> bool:
        """Whether the browser lives elsewhere (a grid reached over CDP or Playwright's connect)."""
        return self.pool is not None

    async def refusal(self) -> PoolUnavailable | None:
        """Why a new task would find no browser now (every one of the pool full or out), or None."""
        return await self.pool.refusal() if self.pool is not None else None

    def loss_reason(self, context: BrowserContext) -> str | None:
        """Why ``context`` ended, when the pool took the browser it was on out; else None."""
        return self.pool.loss_reason(context) if self.pool is not None else None

    async def network_gate(self, policy: UrlPolicy, proxy: Mapping[str, str] | None) -> ProxyGate | None:
        """The proxy gate a context of a task with ``policy`` is created behind (``proxy``, the
        task's own proxy, becomes its upstream), or None: a task without allowed_urls goes out
        directly. A remote browser gets none either: it cannot reach this machine's loopback,
        and its launch flags (WebRTC's among them) are its grid's. There allowed_urls is
        enforced request by request (the guard) only."""
        if not policy.restricts:
            return None
        if self.remote:
            if not self._told_remote_network:
                self._told_remote_network = True
                log.warning(
                    "the browser is remote: allowed_urls is enforced per request only, without the "
                    "proxy every connection of a local browser passes (WebRTC and preconnects are "
                    "the grid's to restrict)"
                )
            return None
        return await ProxyGate.open(policy, Upstream.from_settings(proxy) if proxy else None)

    async def new_context(self, **options: Any) -> BrowserContext:
        # Downloads are accepted: the task's session hands each to the task's files (a bounded
        # folder served at downloads_url); Playwright deletes its own copies with the context.
        options = {"accept_downloads": True, **options}
        if self.pool is not None:
            return await self.pool.new_context(**options)
        browser = await self.browser()
        context = await kept_or_closed(browser.new_context(**options), close_context)
        self._contexts.add(context)
        context.on("close", lambda _: self._contexts.discard(context))
        return context

    async def aclose(self) -> None:
        """Close every context, the browser and the driver; safe to call twice."""
        if self._spare is not None:
            await self._spare.aclose()
        if self.pool is not None:
            await self.pool.aclose()
        for context in list(self._contexts):
            with contextlib.suppress(PlaywrightError):
                await close_context(context)
        self._contexts.clear()
        if self._browser is not None:
            with contextlib.suppress(PlaywrightError):
                await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None


async def close_context(context: BrowserContext) -> None:
    """Close ``context``; requests still being answered by its route handlers are let go.

    Without unrouting first, a handler answering a request of a page that closes under it raises
    ("Route.fulfill: Fetch response has been disposed"), and Playwright reports that error from
    whatever call comes next, such as another task's browser start.
    """
    with contextlib.suppress(PlaywrightError):
        await context.unroute_all(behavior="ignoreErrors")
    await context.close()
