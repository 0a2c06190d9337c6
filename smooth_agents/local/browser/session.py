"""One task's browser: an isolated context and its page, with the actions the API exposes.

The page's lifecycle is kept here too: popups adopted and bounded, a page whose script ran away
replaced by a blank one in the same context, files offered to every chooser. Where the browser
itself comes from is ``chromium.BrowserProvider``'s job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import BrowserContext, Download, FileChooser, Page, Response
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from ..errors import ActionFailed, PageMovedOn
from ..jsonsafe import json_safe
from .chromium import DESKTOP_OPTIONS, BrowserProvider, close_context
from .guard import MAX_REDIRECTS, REDIRECT_STATUSES, PolicyGuard
from .loggable import scrub_urls, url_for_log
from .proxy import ProxyGate
from .url_policy import BlockedUrlError, UrlPolicy

log = logging.getLogger("smooth_agents.local.browser")

_MOBILE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)
# Pages on which no script of the caller's has effects: a script cut off there may run again.
_INERT_PAGES = ("about:blank", "chrome-error://")

# How long a page whose document has loaded may take to finish loading (images, frames) before
# it is read as it stands.
LOAD_SETTLE_MS = 5_000

# Pages one session may have open at once (its own and the popups it opened).
MAX_PAGES = 8
# The largest document served_html() reads (a page's HTML, not a download).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_POPUP_CAP = """(() => {
  let opened = 0;
  const open = window.open;
  window.open = function (...args) { return ++opened > MAX_PAGES ? null : open.apply(this, args); };
})();"""

DEVICE_OPTIONS: dict[str, dict[str, Any]] = {
    "desktop": DESKTOP_OPTIONS,
    "desktop-lg": {"viewport": {"width": 1920, "height": 1080}},
    "mobile": {
        "viewport": {"width": 412, "height": 915},
        "device_scale_factor": 2.625,
        "is_mobile": True,
        "has_touch": True,
        "user_agent": _MOBILE_UA,
    },
}


@dataclass
class GotoResult:
    url: str
    title: str
    status: int | None

    def as_output(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "status": self.status}


class BrowserSession:
    """One isolated context and its page, with the actions of the Smooth API."""

    def __init__(self, context: BrowserContext, page: Page, policy: UrlPolicy, action_timeout: float) -> None:
        self.context = context
        self.policy = policy
        self.guard = PolicyGuard(policy)
        # The proxy every connection of the context passes, when the task has allowed_urls.
        self.network_gate: ProxyGate | None = None
        self._timeout_ms = action_timeout * 1000
        self._files: list[str] = []
        self._closing = False
        self._closing_pages: set[asyncio.Task[None]] = set()
        self._making_own_page = 0  # pages the session makes for itself are not popups to bound
        # The address of the last goto and its document's response, for served_html().
        self._document: tuple[str, Response | None] | None = None
        # True once the browser went away under the session (crashed, killed): it cannot go on.
        self.lost = False
        self._adopted: weakref.WeakSet[Page] = weakref.WeakSet()
        # Files the pages download go to ``on_download`` (none is kept without one). The page
        # being recorded (the session's first), and why there is no recording when one was asked.
        self.on_download: Callable[[Download], Coroutine[Any, Any, None]] | None = None
        self._downloads: set[asyncio.Task[None]] = set()
        self._recorded: Page | None = None
        self.recording_note = ""
        # Told each time the session's page becomes another (a tab switch, a page replaced): the
        # live view follows it.
        self.page_listeners: list[Callable[[Page], object]] = []
        self._adopt(page)
        page.on("download", self._on_download)
        context.on("page", self._on_page)
        context.on("close", lambda _: self._on_context_close())

    def _on_download(self, download: Download) -> None:
        if self.on_download is None:
            return
        collecting = asyncio.get_running_loop().create_task(self.on_download(download))
        self._downloads.add(collecting)
        collecting.add_done_callback(self._downloads.discard)

    async def downloads_settled(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the downloads in flight to end (none is stopped)."""
        if self._downloads and timeout > 0:
            await asyncio.wait(set(self._downloads), timeout=timeout)

    async def settle_downloads(self, grace: float) -> None:
        """Let downloads in flight finish (for up to ``grace`` seconds), then stop the rest."""
        if self._downloads and grace > 0:
            await asyncio.wait(set(self._downloads), timeout=grace)
        pending = set(self._downloads)
        for collecting in pending:
            collecting.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _on_page(self, page: Page) -> None:
        """A page the session's page opened (window.open, target=_blank): at most
        ``MAX_PAGES`` live at once; more are closed as they open. Its downloads are kept too."""
        page.on("download", self._on_download)
        if not self._making_own_page and len(self.context.pages) > MAX_PAGES:
            log.info("closing a popup past %d pages: %s", MAX_PAGES, url_for_log(page.url))
            closing = asyncio.get_running_loop().create_task(_close_quietly(page))
            self._closing_pages.add(closing)
            closing.add_done_callback(self._closing_pages.discard)

    def _on_context_close(self) -> None:
        self.lost = not self._closing  # the browser went away under the session

    def _adopt(self, page: Page) -> None:
        """Make ``page`` the session's page, with its timeouts and file chooser."""
        changed = page is not self.__dict__.get("page")
        self.page = page
        if changed:
            for listener in list(self.page_listeners):
                listener(page)
        if page in self._adopted:
            return
        self._adopted.add(page)
        page.set_default_timeout(self._timeout_ms)
        page.set_default_navigation_timeout(self._timeout_ms)
        page.on("filechooser", self._choose_files)

    def tabs(self) -> list[Page]:
        """The session's open pages (its own and the popups its pages opened), oldest first."""
        return [page for page in self.context.pages if not page.is_closed()]

    async def switch_to(self, index: int) -> Page:
        """Make the tab at ``index`` of ``tabs()`` the session's page: what the next actions see."""
        pages = self.tabs()
        if not 0 <= index < len(pages):
            raise ActionFailed(f"There is no tab {index}: the session has {len(pages)}, from 0.")
        self._adopt(pages[index])
        with contextlib.suppress(PlaywrightError):
            await self.page.bring_to_front()
        return self.page

    async def _reset_page(self) -> None:
        """Replace a page whose script will not stop with a blank one in the same context
        (cookies and storage stay): closing the page ends the runaway script."""
        stuck = self.page
        self._making_own_page += 1
        try:
            fresh = await self.context.new_page()
        finally:
            self._making_own_page -= 1
        self._adopt(fresh)
        with contextlib.suppress(PlaywrightError):
            await asyncio.wait_for(stuck.close(), 10)

    @classmethod
    async def open(
        cls,
        provider: BrowserProvider,
        *,
        device: str,
        policy: UrlPolicy,
        action_timeout: float,
        storage_state: Path | None = None,
        proxy: dict[str, str] | None = None,
        files: Sequence[Path] = (),
        record_to: Path | None = None,
    ) -> BrowserSession:
        """A new context and page; with ``record_to``, the page's video is recorded into that
        file (see ``start_recording``)."""
        options: dict[str, Any] = dict(DEVICE_OPTIONS.get(device, DEVICE_OPTIONS["desktop"]))
        if storage_state is not None:
            options["storage_state"] = str(storage_state)
        gate = await provider.network_gate(policy, proxy)
        if gate is not None:
            options["proxy"] = gate.proxy_settings()
        elif proxy is not None:
            options["proxy"] = proxy
        options.update(PolicyGuard.context_options(policy))
        # A plain session takes the context and page opened ahead (spare.py), if they match.
        spare = await provider.take_spare(options) if gate is None else None
        try:
            context = spare[0] if spare is not None else await provider.new_context(**options)
        except BaseException:
            if gate is not None:
                gate.close()
            raise
        if gate is not None:
            context.on("close", lambda _: gate.close())  # however it closes (a crash too)
        try:
            page = spare[1] if spare is not None else await context.new_page()
            session = cls(context, page, policy, action_timeout)
            session.network_gate = gate
            if record_to is not None:
                await session.start_recording(provider, record_to)
            await session.guard.attach(context)
            # Popups past the bound are refused in the page itself, before Chromium makes them
            # (the context still closes any that get through another way).
            await context.add_init_script(_POPUP_CAP.replace("MAX_PAGES", str(MAX_PAGES)))
            if files:
                session.offer_files(files)
        except BaseException:
            await close_context(context)
            raise
        return session

    def offer_files(self, files: Sequence[Path]) -> None:
        """Answer every file chooser the page opens (a click on a file input, by a script or an
        agent) with these files: the task's uploaded files reach a form as a person's pick would."""
        self._files = [str(path) for path in files]

    async def _choose_files(self, chooser: FileChooser) -> None:
        if not self._files:
            return
        try:
            await chooser.set_files(self._files if chooser.is_multiple() else self._files[:1])
        except PlaywrightError as exc:  # the input went away meanwhile
            log.info("file chooser not answered: %s", _first_line(exc))

    @property
    def url(self) -> str:
        return self.page.url

    async def goto(self, url: str) -> GotoResult:
        try:
            self.policy.check(url)
        except BlockedUrlError as exc:
            raise ActionFailed(str(exc)) from None
        try:
            # The document first, then a bounded wait for the rest: some pages never fire
            # ``load`` (a script that keeps swapping in an image from a host that cannot be
            # reached), and what they show is still worth reading.
            response = await self.page.goto(url, wait_until="domcontentloaded")
            self._document = (url, response)
            with contextlib.suppress(PlaywrightTimeoutError):
                await self.page.wait_for_load_state("load", timeout=min(LOAD_SETTLE_MS, self._timeout_ms))
        except PlaywrightTimeoutError:
            raise ActionFailed(f"Loading {url} took longer than {self._timeout_ms / 1000:.0f} s.") from None
        except PlaywrightError as exc:
            await self._settle_on_blank()
            if "ERR_BLOCKED_BY_CLIENT" in str(exc):
                blocked = self.guard.blocked[-1] if self.guard.blocked else url
                raise ActionFailed(
                    f"Cannot open {url!r}: {blocked!r} is outside this task's allowed_urls."
                ) from None
            raise ActionFailed(f"Could not load {url}: {_first_line(exc)}") from None
        if self.page.url.startswith("chrome-error://"):
            # The page went on by itself (a script, a refresh) to an address that did not load.
            await self._settle_on_blank()
            raise PageMovedOn(
                f"Could not load {url}: the page moved on by itself to an address that did not load "
                "(a switch to https the server does not answer, for instance)."
            )
        if not self.policy.allows(self.page.url):  # never expected: every hop is checked on the way
            landed = self.page.url
            with contextlib.suppress(PlaywrightError):
                await self.page.goto("about:blank")
            raise ActionFailed(f"Cannot show {landed!r}: it matches none of this task's allowed_urls.")
        return GotoResult(self.page.url, await self.page.title(), response.status if response else None)

    async def _evaluate(self, js: str, args: Any) -> Any:
        return await (self.page.evaluate(js) if args is None else self.page.evaluate(js, args))

    async def _settle_on_blank(self) -> None:
        """After a failed navigation: Chromium commits its error page after the failure is
        reported, and that commit may even interrupt the next navigation. So a blank page is
        loaded until it is what the page shows, and the next action never races the commit."""
        for _ in range(5):
            with contextlib.suppress(PlaywrightError):
                await self.page.goto("about:blank")
            if self.page.url == "about:blank":
                return
            with contextlib.suppress(PlaywrightError):
                await self.page.wait_for_load_state("load", timeout=2_000)
        log.info(
            "the page did not settle after a failed navigation (it shows %s)", url_for_log(self.page.url)
        )

    async def evaluate_js(self, js: str, args: Any = None) -> Any:
        """The script's value; a script that runs past the action timeout is stopped (its page
        replaced by a blank one), so the session stays usable."""
        try:
            try:
                return json_safe(await asyncio.wait_for(self._evaluate(js, args), self._timeout_ms / 1000))
            except PlaywrightError as exc:
                # A blank or error page replaced under the script by Chromium's late error-page
                # commit (after a failed goto): nothing ran there, so running it again is safe.
                if "context was destroyed" not in str(exc) or not self.page.url.startswith(_INERT_PAGES):
                    raise
                with contextlib.suppress(PlaywrightError):
                    await self.page.wait_for_load_state("load", timeout=2_000)
                return json_safe(await asyncio.wait_for(self._evaluate(js, args), self._timeout_ms / 1000))
        except (TimeoutError, PlaywrightTimeoutError):
            await self._reset_page()
            raise ActionFailed(
                f"The script ran longer than {self._timeout_ms / 1000:g} s and was stopped; the session "
                "now shows a blank page (its cookies and storage are kept): go to a page again."
            ) from None
        except PlaywrightError as exc:
            raise ActionFailed(f"JavaScript error: {_first_line(exc)}") from None

    @property
    def action_timeout_ms(self) -> float:
        return self._timeout_ms

    @property
    def document_url(self) -> str | None:
        """The address the last goto asked for."""
        return self._document[0] if self._document else None

    async def served_html(self) -> str | None:
        """The last goto's document as its server sent it, before the page's scripts ran; None
        when there is none that reads as HTML.

        Its response body when the browser still has it; fetched once more (each redirect checked
        against the task's allowed_urls) when the page has moved on and the body is gone.
        """
        if self._document is None:
            return None
        url, response = self._document
        if response is not None:
            with contextlib.suppress(PlaywrightError):
                return _html_text(response.status, response.headers, await response.text())
        return await self._fetch_document(url)

    async def _fetch_document(self, url: str) -> str | None:
        for _ in range(MAX_REDIRECTS + 1):
            if not self.policy.allows(url):
                return None
            try:
                response = await self.context.request.get(url, max_redirects=0, timeout=self._timeout_ms)
                location = response.headers.get("location")
                if response.status in REDIRECT_STATUSES and location:
                    url = urljoin(url, location)
                    continue
                if int(response.headers.get("content-length") or 0) > MAX_DOCUMENT_BYTES:
                    return None
                return _html_text(response.status, response.headers, await response.text())
            except PlaywrightError as exc:
                log.info("could not fetch %s again: %s", url_for_log(url), scrub_urls(_first_line(exc)))
                return None
        return None

    async def html(self) -> str:
        """The page's current HTML, once a navigation in progress has settled."""
        for _ in range(3):
            try:
                return await self.page.content()
            except PlaywrightError as exc:
                if "navigating" not in str(exc):
                    raise ActionFailed(f"Could not read the page: {_first_line(exc)}") from None
                with contextlib.suppress(PlaywrightError):
                    await self.page.wait_for_load_state("load")
        raise ActionFailed("Could not read the page: it keeps navigating.")

    async def set_input_files(self, selector: str, paths: list[Path]) -> None:
        try:
            await self.page.set_input_files(selector, [str(p) for p in paths])
        except PlaywrightError as exc:
            raise ActionFailed(f"Could not attach files to {selector!r}: {_first_line(exc)}") from None

    async def screenshot(self) -> bytes:
        try:
            return await self.page.screenshot(type="jpeg", quality=70, timeout=5000)
        except PlaywrightError as exc:
            raise ActionFailed(f"No screenshot: {_first_line(exc)}") from None

    async def capture(self, *, full_page: bool = False) -> bytes:
        """A PNG of the page: what the viewport shows, or the whole scrollable page."""
        try:
            return await self.page.screenshot(type="png", full_page=full_page, timeout=self._timeout_ms)
        except PlaywrightError as exc:
            raise ActionFailed(f"No screenshot: {_first_line(exc)}") from None

    async def pdf(self) -> bytes:
        """The page printed to PDF (headless Chromium only)."""
        try:
            return await asyncio.wait_for(self.page.pdf(print_background=True), self._timeout_ms / 1000)
        except TimeoutError:
            raise ActionFailed(f"Printing the page took longer than {self._timeout_ms / 1000:g} s.") from None
        except PlaywrightError as exc:
            raise ActionFailed(f"Could not print the page: {_first_line(exc)}") from None

    async def storage_state(self) -> dict[str, Any]:
        state = await self.context.storage_state()
        return dict(state)

    async def start_recording(self, provider: BrowserProvider, path: Path) -> None:
        """Record the session's page into ``path`` (WebM; saved when the session closes), with
        Playwright's screencast: only this page, not the popups it opens. The recorder needs
        Playwright's ffmpeg; without it nothing is recorded, ``recording_note`` says why, and
        the provider remembers it so that no later session tries again."""
        if provider.recorder_missing:
            self.recording_note = provider.recorder_missing
            return
        try:
            await self.page.screencast.start(path=path)
        except PlaywrightError as exc:
            self.recording_note = f"the recording could not start: {_first_line(exc)}"
            if "ffmpeg" in str(exc).lower():
                provider.recorder_missing = (
                    "video recording needs Playwright's ffmpeg, which is not installed "
                    "(`playwright install ffmpeg`; see the README)"
                )
                self.recording_note = provider.recorder_missing
                log.warning("tasks are not recorded: %s", provider.recorder_missing)
            return
        self._recorded = self.page

    async def _stop_recording(self) -> None:
        recorded, self._recorded = self._recorded, None
        if recorded is None or recorded.is_closed():
            return
        try:
            await asyncio.wait_for(recorded.screencast.stop(), self._timeout_ms / 1000)
        except (PlaywrightError, TimeoutError) as exc:
            self.recording_note = f"the recording could not be saved: {_first_line(exc)}"
            log.info("recording not saved: %s", self.recording_note)

    async def close(self) -> None:
        self._closing = True
        await self.settle_downloads(0)
        await self._stop_recording()  # the video is written now, before its page goes away
        # If the browser went away first there is nothing left to close.
        with contextlib.suppress(PlaywrightError):
            await close_context(self.context)


def _html_text(status: int, headers: dict[str, str], text: str) -> str | None:
    kind = headers.get("content-type", "text/html").lower()
    if status >= 400 or ("html" not in kind and "xml" not in kind) or len(text) > MAX_DOCUMENT_BYTES:
        return None
    return text


async def _close_quietly(page: Page) -> None:
    with contextlib.suppress(PlaywrightError):
        await page.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # Playwright appends a call log after the first line; the first line is the message.
    return text.splitlines()[0] if text else type(exc).__name__
