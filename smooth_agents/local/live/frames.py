"""Pictures of a session's page for its live view, pushed as the page changes.

Chromium's screencast (CDP ``Page.startScreencast``) sends a JPEG each time the page paints, so an
idle page costs nothing; each frame is acknowledged as it arrives, so the next paint comes as soon
as it happens. Where the browser speaks no CDP (a browser of another kind behind a Playwright
endpoint), screenshots are taken on a timer instead and only those that differ are sent.

The feed follows the session's page: a tab switch or a page replaced moves it to the new page, and
when the page it shows closes, the session moves to its most recent remaining tab.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError

from ..browser.session import BrowserSession
from ..errors import ActionFailed

log = logging.getLogger("smooth_agents.local.live")

JPEG_QUALITY = 70
# Where there is no screencast: how often the page is photographed (a frame is sent only when
# the picture changed).
SCREENSHOT_INTERVAL = 0.5
# After a frame spoiled by a screenshot's override, the screencast is started again this much later
# (a screenshot's override lasts about that long), at most this many times in a row.
REPAINT_AFTER_SECONDS = 0.1
MAX_REPAINTS = 20

FrameMode = Literal["screencast", "screenshots"]


@dataclass(frozen=True)
class Frame:
    """One picture of the page, and the size of the viewport it shows, in CSS pixels (what a
    point on the picture is scaled to)."""

    jpeg: bytes
    width: float
    height: float
    url: str


class FrameFeed:
    """Frames of whatever page the session shows, handed to ``publish`` as they come
    (``screencast`` False: screenshots, as where the browser has no screencast)."""

    def __init__(
        self, browser: BrowserSession, publish: Callable[[Frame], None], *, screencast: bool = True
    ) -> None:
        self.browser = browser
        self._publish = publish
        self._screencast = screencast
        self.mode: FrameMode = "screencast" if screencast else "screenshots"
        self.latest: Frame | None = None
        self._page: Page | None = None
        self._cdp: CDPSession | None = None
        self._poller: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Task[Any]] = set()
        self._stopped = False
        self._repainting = asyncio.Lock()
        self._repaints = 0  # in a row, since the last true frame

    @property
    def viewport(self) -> tuple[float, float]:
        """The shown page's viewport in CSS pixels."""
        if self.latest is not None:
            return self.latest.width, self.latest.height
        size = self.browser.page.viewport_size or {"width": 1280, "height": 800}
        return float(size["width"]), float(size["height"])

    async def start(self) -> None:
        self.browser.page_listeners.append(self._on_page_change)
        await self._follow(self.browser.page)

    async def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(ValueError):
            self.browser.page_listeners.remove(self._on_page_change)
        async with self._lock:
            await self._let_go()
        for pending in list(self._pending):
            pending.cancel()

    # -- following the session's page --------------------------------------------------------
    def _on_page_change(self, page: Page) -> None:
        self._in_background(self._follow(page))

    def _in_background(self, work: Any) -> None:
        running = asyncio.get_running_loop().create_task(work)
        self._pending.add(running)
        running.add_done_callback(self._pending.discard)

    async def _follow(self, page: Page) -> None:
        async with self._lock:
            if self._stopped or page is self._page or page.is_closed():
                return
            await self._let_go()
            self._page = page
            page.once("close", lambda closed: self._in_background(self._after_close(closed)))
            if self._screencast:
                try:
                    await self._start_screencast(page)
                    return
                except PlaywrightError as exc:
                    # No CDP here (another browser, or an endpoint that does not pass it on).
                    log.info("live view without a screencast (%s): screenshots instead", _first_line(exc))
                    self._cdp = None
            self.mode = "screenshots"
            self._poller = asyncio.get_running_loop().create_task(self._photograph(page))

    async def _after_close(self, closed: Page) -> None:
        """The shown page closed: show the session's page, or its most recent tab when the
        session's own page is the one that closed (a person closed a tab)."""
        if self._stopped or closed is not self._page:
            return
        if self.browser.page.is_closed():
            tabs = self.browser.tabs()
            if tabs:
                with contextlib.suppress(PlaywrightError, ActionFailed):
                    await self.browser.switch_to(len(tabs) - 1)  # the listener follows it
                return
        await self._follow(self.browser.page)

    async def _let_go(self) -> None:
        cdp, self._cdp = self._cdp, None
        poller, self._poller = self._poller, None
        self._page = None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, PlaywrightError):
                await poller
        if cdp is not None:
            with contextlib.suppress(PlaywrightError):
                await cdp.send("Page.stopScreencast")
            with contextlib.suppress(PlaywrightError):
                await cdp.detach()

    # -- the screencast ----------------------------------------------------------------------
    async def _start_screencast(self, page: Page) -> None:
        cdp = await page.context.new_cdp_session(page)
        self._cdp = cdp
        size = page.viewport_size or {"width": 1280, "height": 800}

        def on_frame(event: dict[str, Any]) -> None:
            # Acknowledged at once: Chromium sends the next paint only after that.
            ack = cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})
            self._in_background(_quietly(ack))
            if cdp is not self._cdp:
                return  # a frame of the page the feed just left
            metadata = event.get("metadata") or {}
            if abs(float(metadata.get("deviceWidth") or size["width"]) - size["width"]) > 1:
                # Painted while a screenshot of the page (an agent's, or frame.jpg) overrode its
                # metrics for a moment: neither the picture nor its size is the page's. An idle
                # page paints no more, so the screencast is started again for a true picture.
                if self._repaints < MAX_REPAINTS:
                    self._repaints += 1
                    self._in_background(self._repaint(cdp, options))
                return
            self._repaints = 0
            # The picture shows the device's width; a mobile page laid out wider is scaled down
            # to fit it (pageScaleFactor), and points are given in the page's CSS pixels.
            scale = float(metadata.get("pageScaleFactor") or 1) or 1.0
            frame = Frame(
                base64.b64decode(event["data"]),
                float(metadata.get("deviceWidth") or size["width"]) / scale,
                float(metadata.get("deviceHeight") or size["height"]) / scale,
                page.url,
            )
            self._deliver(frame)

        # One picture pixel per CSS pixel; the first frame comes at once, even on an idle page.
        options: dict[str, Any] = {"format": "jpeg", "quality": JPEG_QUALITY}
        options |= {"maxWidth": size["width"], "maxHeight": size["height"]}
        cdp.on("Page.screencastFrame", on_frame)
        await cdp.send("Page.startScreencast", options)
        self.mode = "screencast"

    async def _repaint(self, cdp: CDPSession, options: dict[str, Any]) -> None:
        """Start the screencast again, once the override that spoiled a frame is over: a new
        screencast sends its first frame at once. Repaints wait their turn, so spoiled frames
        arriving together restart it once at a time."""
        async with self._repainting:
            await asyncio.sleep(REPAINT_AFTER_SECONDS)  # the override lasts one screenshot
            if cdp is not self._cdp or self._stopped:
                return
            with contextlib.suppress(PlaywrightError):
                await cdp.send("Page.stopScreencast")
                await cdp.send("Page.startScreencast", options)

    # -- screenshots, where there is no screencast ------------------------------------------
    async def _photograph(self, page: Page) -> None:
        last = b""
        while not page.is_closed():
            try:
                picture = await page.screenshot(type="jpeg", quality=JPEG_QUALITY, timeout=5000)
            except PlaywrightError as exc:
                log.debug("no screenshot for the live view: %s", _first_line(exc))
                picture = last
            if picture != last:
                last = picture
                width, height = await _css_viewport(page)
                self._deliver(Frame(picture, width, height, page.url))
            await asyncio.sleep(SCREENSHOT_INTERVAL)

    def _deliver(self, frame: Frame) -> None:
        self.latest = frame
        self._publish(frame)


async def _css_viewport(page: Page) -> tuple[float, float]:
    """The page's viewport in its CSS pixels (a mobile page may be laid out wider than the
    device and shown scaled down)."""
    try:
        width, height = await page.evaluate("[innerWidth, innerHeight]")
        return float(width), float(height)
    except (PlaywrightError, TypeError, ValueError):
        size = page.viewport_size or {"width": 1280, "height": 800}
        return float(size["width"]), float(size["height"])


async def _quietly(work: Any) -> None:
    with contextlib.suppress(PlaywrightError):
        await work


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
