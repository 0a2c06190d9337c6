"""Waiting for what an action started, so that the page state answering it shows its effect.

A click often changes the page later than it returns: a timer opens a menu, a fetch brings
results that a script then renders, a link starts a navigation. ``ActionWatch`` watches the page
from just before the action until what the action started has finished, and no longer:

- requests the page makes after the action began (documents, scripts, fetch and XHR), from
  Playwright's request events, until they end;
- the page's own navigation, until it commits and its document is parsed (bounded by the action
  timeout, as Playwright's own wait for a navigation is); the new document is then watched as
  below, with a cap of its own (once); a navigation the browser turned into a download ends
  aborted a few milliseconds before Playwright tells of the download, which is waited for;
- in the page, a watcher armed just before the action: the timers set from then on that fall
  due within the cap (``setTimeout``, a ``setInterval``'s first tick), and DOM mutations (a
  MutationObserver), after which the page must be quiet for a short window and two animation
  frames (a response is rendered a moment after it arrives; an animation never gets quiet); a
  page that changes in a quick rhythm (a ticker: the period of a quick ``setInterval`` the action
  set, or the time between its last two changes, a gap in which the renderer stalled not
  counted) must stay quiet for a beat and a half of it, and the quiet is judged again once every
  timer already due has run (a renderer starved of CPU runs them late, all at once).

Nothing of that kind, no wait: a click that starts nothing is answered after one animation frame.
The rest is bounded by a cap (about a second) counted from the end of the action; when the cap
cuts the wait, ``settle`` says so and the page state tells the model the page was still changing.
The watcher replaces the page's timer functions with proxies of them only while it is armed (from
just before the action to the end of the wait), and puts them back.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from playwright.async_api import Download, Frame, Page, Request
from playwright.async_api import Error as PlaywrightError

# How long after an action its effects are waited for, at most (seconds).
DEFAULT_SETTLE_CAP = 1.0
# How long the DOM must stay unchanged after the last change an action caused (seconds), two
# animation frames at least: time for what a change queues next (a render, a frame's work); an
# animation that changes the page on every frame never gets there.
QUIET_WINDOW = 0.02
# Requests whose end the page is likely to show: documents (frames), code and data.
AWAITED_REQUESTS = frozenset({"document", "script", "fetch", "xhr"})
# A page whose main thread does not answer the watcher is left after this long past the cap.
_UNANSWERED_SLACK = 1.0
# How long, at most, a navigation the browser turned into a download waits for Playwright to tell
# of the download (seconds): the navigation ends as aborted first, the download some 6 ms later
# (12 ms at most in 30 clicks, more on a loaded machine), and the page state answering the click
# says what became of the page's downloads.
DOWNLOAD_GRACE = 1.0

_KEY = "__smoothActionWatch"

# Arms the watcher in the page's main world (its state kept on a non-enumerable property of the
# window): records DOM mutations (but the refs the page state writes) and the timers set while it
# is armed that fall due within the cap, through proxies of the page's timer functions as they
# are when it is armed (a framework may have wrapped them; they are put back as they were).
# ``reset`` starts a new action's watch; without it a watch already armed in this document
# carries on (a same-document navigation).
_ARM_JS = """
([key, refAttribute, capMs, reset]) => {
  const RHYTHM_MS = 100, STALL_MS = 50;
  let w = window[key];
  if (!w) {
    w = { timers: new Map(), last: 0, changed: false, armed: false, capMs: 0, frames: 0, changedAt: 0 };
    w.intervals = new Map();  // the quick repeating timers of this watch: their periods
    // The page's rhythm: the time between its last two DOM changes, when short enough to be one
    // (RHYTHM_MS). A gap in which the renderer stalled (two frames further apart than STALL_MS:
    // starved of CPU, or busy) says nothing of the page, and the rhythm before it stands: a
    // starved renderer runs a ticker's ticks late, and one long gap made a 40 ms ticker quiet.
    w.rhythm = 0; w.mutated = 0; w.frameAt = 0; w.stalledAt = 0; w.stallMs = STALL_MS;
    w.observer = new MutationObserver((records) => {
      if (records.some((r) => r.type !== "attributes" || r.attributeName !== refAttribute)) {
        const now = performance.now();
        const gap = w.mutated > 0 ? now - w.mutated : 0;
        const stalled = w.stalledAt >= w.mutated || (w.frameAt > 0 && now - w.frameAt > STALL_MS);
        if (!stalled) w.rhythm = gap <= RHYTHM_MS ? gap : 0;
        w.mutated = now; w.last = now; w.changed = true; w.changedAt = w.frames;
      }
    });
    Object.defineProperty(window, key, { value: w, enumerable: false, configurable: true });
  }
  if (reset || !w.armed) {
    w.timers.clear(); w.intervals.clear(); w.last = performance.now(); w.changed = false;
    w.rhythm = 0; w.mutated = 0; w.frameAt = 0; w.stalledAt = 0;
  }
  w.capMs = capMs;
  if (w.armed || !document.documentElement) return w.armed;
  const native = {
    setTimeout: window.setTimeout, setInterval: window.setInterval,
    clearTimeout: window.clearTimeout, clearInterval: window.clearInterval,
    frame: window.requestAnimationFrame,
  };
  const timer = (target, repeating) => new Proxy(target, {
    apply(fn, self, args) {
      const [callback, delay] = args;
      const wait = Math.max(0, Number(delay) || 0);
      if (!w.armed || typeof callback !== "function" || wait > w.capMs) {
        return Reflect.apply(fn, self, args);
      }
      let id;
      // Waited for until it first fires (a repeating one too: its first tick), by this watch
      // only (a later action's watch starts with no timers).
      const tracked = function (...given) {
        if (w.timers.delete(id)) { w.last = performance.now(); w.changed = true; w.changedAt = w.frames; }
        return callback.apply(this, given);
      };
      id = Reflect.apply(fn, self, [tracked, ...args.slice(1)]);
      w.timers.set(id, performance.now() + wait);
      // A quick repeating timer is a rhythm before its second tick shows one.
      if (repeating && wait <= RHYTHM_MS) w.intervals.set(id, wait);
      return id;
    },
  });
  const clearing = (target) => new Proxy(target, {
    apply(fn, self, args) {
      w.timers.delete(args[0]); w.intervals.delete(args[0]); return Reflect.apply(fn, self, args);
    },
  });
  w.native = native;
  w.proxies = {
    setTimeout: timer(native.setTimeout, false), setInterval: timer(native.setInterval, true),
    clearTimeout: clearing(native.clearTimeout), clearInterval: clearing(native.clearInterval),
  };
  w.disarm = () => {
    for (const [name, proxy] of Object.entries(w.proxies)) {
      if (window[name] === proxy) window[name] = native[name];
    }
    w.observer.disconnect(); w.timers.clear(); w.armed = false;
  };
  w.observer.observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  for (const [name, proxy] of Object.entries(w.proxies)) window[name] = proxy;
  w.armed = true;
  return true;
}
"""

# Resolves once the armed watcher sees nothing left to wait for (no tracked timer due before the
# end, and, if the DOM changed, no change for ``quietMs`` and two animation frames: a page starved
# of CPU draws late, and an animation changes the DOM on every frame), or at the end: {settled}.
# At least one frame passes first (what the action queued for the next one). ``fresh``: the page
# has just had news (a response it will render), so it must be quiet from now on. The watcher is
# disarmed as the wait ends (armed again if there is more to wait for).
_WAIT_JS = """
([key, untilMs, quietMs, fresh]) => new Promise((resolve) => {
  const w = window[key];
  if (!w || !w.armed) { resolve({ settled: true }); return; }
  const later = (fn, ms) => w.native.setTimeout.call(window, fn, ms);
  const end = performance.now() + untilMs;
  let waiting = true; let lastFrame = performance.now(); let confirming = false;
  const frame = () => {
    const now = performance.now();
    if (w.frameAt > 0 && now - w.frameAt > w.stallMs) w.stalledAt = now;
    w.frames++; lastFrame = now; w.frameAt = now;
    if (waiting) w.native.frame.call(window, frame);
  };
  const done = (settled) => { waiting = false; w.disarm(); resolve({ settled }); };
  if (fresh) { w.last = performance.now(); w.changed = true; w.changedAt = w.frames; }
  const check = () => {
    const now = performance.now();
    let due = Infinity;
    for (const at of w.timers.values()) if (at <= end) due = Math.min(due, at);
    const quietFor = now - w.last;
    // A page that draws no frames (hidden) is judged by time alone.
    const framesQuiet = w.frames - w.changedAt >= 2 || now - lastFrame > 250;
    // A page that changes in a quick rhythm (a ticker, a page starved of CPU drawing late) is
    // quiet only once a beat and a half has passed without a change.
    const needed = Math.max(quietMs, 1.5 * Math.max(w.rhythm, ...w.intervals.values()));
    if (due === Infinity && (!w.changed || (quietFor >= needed && framesQuiet))) {
      // Quiet, unless a timer already due (late: the renderer was busy or starved) changes the
      // page: a zero-delay hop runs after every timer due by now, so look once more after it.
      if (confirming) { done(true); return; }
      confirming = true; later(check, 0); return;
    }
    confirming = false;
    if (now >= end) { done(false); return; }
    const wake = due !== Infinity ? due : now + Math.max(needed - quietFor, 16);
    later(check, Math.max(4, Math.min(end, wake) - now));
  };
  let started = false;
  const start = () => { if (!started) { started = true; check(); } };
  w.native.frame.call(window, () => { frame(); later(start, 0); });
  later(start, 50);  // a page that draws no frames
})
"""

# Arms the watcher (as ``_ARM_JS``, carrying on a watch already armed) and waits (as ``_WAIT_JS``)
# in one call: a new document's watch costs one round trip to the page, not two.
_ARM_AND_WAIT_JS = (
    "([arm, wait]) => { (" + _ARM_JS.strip() + ")(arm); return (" + _WAIT_JS.strip() + ")(wait); }"
)

_DISARM_JS = """
(key) => { const w = window[key]; if (w && w.armed) w.disarm(); }
"""


def arm_arguments(ref_attribute: str, cap: float) -> list[Any]:
    """The arguments of ``ARM_JS`` that begin a new action's watch, for a caller that arms the
    watcher within a call of its own (``ActionWatch.start(armed=...)``): one round trip fewer."""
    return [_KEY, ref_attribute, cap * 1000, True]


ARM_JS = _ARM_JS.strip()


class ActionWatch:
    """One action's watch on its page: ``start`` before the action, ``settle`` after it (or
    ``stop`` when it failed)."""

    def __init__(
        self,
        page: Page,
        *,
        ref_attribute: str,
        cap: float = DEFAULT_SETTLE_CAP,
        quiet: float = QUIET_WINDOW,
        navigation_timeout: float = 10.0,
    ) -> None:
        self.page = page
        self.ref_attribute = ref_attribute
        self.cap = cap
        self.quiet = quiet
        self.navigation_timeout = navigation_timeout
        # Requests started since the watch began and not ended; the page's own navigations apart.
        self._requests: set[Request] = set()
        self._navigations: set[Request] = set()
        self._committed = False  # the main frame committed a navigation since the last look
        # The page's own navigation that ended aborted, not yet looked at (it may have become a
        # download), and whether a download has been told of since the watch began.
        self._aborted: Request | None = None
        self._downloaded = asyncio.Event()
        self._news = asyncio.Event()  # a request ended or the page navigated
        self._listening = False
        self._armed = False  # the watcher is armed in the page (as far as is known here)

    async def start(self, *, armed: bool | None = None) -> None:
        """Listen, and arm the watcher in the page; ``armed``: it was armed already for this action
        (``ARM_JS`` with ``arm_arguments``, run by the caller), as that call answered."""
        self.page.on("request", self._on_request)
        self.page.on("requestfinished", self._on_request_end)
        self.page.on("requestfailed", self._on_request_end)
        self.page.on("framenavigated", self._on_navigated)
        self.page.on("download", self._on_download)
        self._listening = True
        if armed is None:
            await self._arm(reset=True)
        else:
            self._armed = armed

    async def stop(self) -> None:
        """End the watch without waiting (the action failed, or the wait is over): the page's
        timer functions are its own again."""
        self.stop_listening()
        if self._armed:
            self._armed = False
            await self._evaluate(_DISARM_JS, _KEY, timeout=_UNANSWERED_SLACK)

    def stop_listening(self) -> None:
        if self._listening:
            self._listening = False
            self.page.remove_listener("request", self._on_request)
            self.page.remove_listener("requestfinished", self._on_request_end)
            self.page.remove_listener("requestfailed", self._on_request_end)
            self.page.remove_listener("framenavigated", self._on_navigated)
            self.page.remove_listener("download", self._on_download)

    async def settle(self) -> bool:
        """Wait until what the action started has finished, or the cap; True when it finished,
        False when the cap (or the navigation timeout) cut the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cap
        extended = False
        fresh = False
        try:
            while True:
                if self._committed:
                    # A new document (or a same-document move): parsed, then watched from here.
                    self._committed = False
                    with contextlib.suppress(PlaywrightError):
                        await self.page.wait_for_load_state(
                            "domcontentloaded", timeout=self.navigation_timeout * 1000
                        )
                    if not extended:  # the new page's own activity gets a cap of its own, once
                        extended, deadline = True, max(deadline, loop.time() + self.cap)
                    if self._requests or self._navigations:
                        await self._arm(reset=False)  # watched while its requests are waited for
                    else:
                        self._armed = False  # armed by the wait itself, in the same call
                    # Parsed, its scripts run: from here what changes it is watched (its requests,
                    # timers and DOM changes), so nothing makes it wait for quiet by itself.
                    continue
                if self._navigations:  # the page is going elsewhere: wait for it as an action would
                    if not await self._news_within(self.navigation_timeout):
                        return False
                    continue
                if self._aborted is not None:
                    aborted, self._aborted = self._aborted, None
                    if not self._downloaded.is_set() and await _became_a_download(aborted):
                        grace = min(DOWNLOAD_GRACE, max(0.0, deadline - loop.time()))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._downloaded.wait(), grace)
                    continue
                remaining = deadline - loop.time()
                if self._requests:
                    if remaining <= 0 or not await self._news_within(remaining):
                        return False
                    fresh = True
                    continue
                if remaining <= 0:
                    return False
                wait = [_KEY, remaining * 1000, self.quiet * 1000, fresh]
                if self._armed:
                    done = await self._evaluate(_WAIT_JS, wait, timeout=remaining + _UNANSWERED_SLACK)
                else:  # a new document, or a wait ended with more to wait for
                    arm = [_KEY, self.ref_attribute, self.cap * 1000, False]
                    done = await self._evaluate(
                        _ARM_AND_WAIT_JS, [arm, wait], timeout=remaining + _UNANSWERED_SLACK
                    )
                    self._armed = True  # as far as is known: disarmed below when it answered
                fresh, self._armed = False, done is None and self._armed
                if self._committed or self._navigations or self._requests:
                    continue  # news came while the page was watched: look again
                if done is None:  # unanswered: the page navigated (its event may come later), closed or hangs
                    if self.page.is_closed():
                        return True
                    if loop.time() >= deadline:
                        return False
                    self._committed = True  # read the document it has now
                    continue
                return bool(done.get("settled"))
        finally:
            await self.stop()

    async def _news_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a request to end or the page to navigate; False at the
        end of that time."""
        self._news.clear()
        try:
            await asyncio.wait_for(self._news.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _arm(self, *, reset: bool) -> None:
        armed = await self._evaluate(
            _ARM_JS, [_KEY, self.ref_attribute, self.cap * 1000, reset], timeout=self.cap + _UNANSWERED_SLACK
        )
        self._armed = armed is True

    async def _evaluate(self, js: str, arg: Any, *, timeout: float) -> Any:
        """The script's value; None when the page could not run it (it navigated, closed, or
        did not answer in time)."""
        try:
            return await asyncio.wait_for(self.page.evaluate(js, arg), timeout)
        except (PlaywrightError, TimeoutError):
            return None

    def _on_request(self, request: Request) -> None:
        if request.resource_type not in AWAITED_REQUESTS:
            return
        try:
            own = request.is_navigation_request() and request.frame == self.page.main_frame
        except PlaywrightError:  # a service worker's request has no frame
            own = False
        (self._navigations if own else self._requests).add(request)

    def _on_request_end(self, request: Request) -> None:
        if request in self._navigations and "ERR_ABORTED" in (request.failure or ""):
            self._aborted = request
        if request in self._requests or request in self._navigations:
            self._requests.discard(request)
            self._navigations.discard(request)
            self._news.set()

    def _on_download(self, _download: Download) -> None:
        self._downloaded.set()

    def _on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._committed = True
            # Its document request is answered once the navigation commits; one that ended
            # aborted before was replaced by this one, not turned into a download.
            self._navigations.clear()
            self._aborted = None
            self._news.set()


async def _became_a_download(navigation: Request) -> bool:
    """Whether a navigation that ended aborted was answered with a document the browser did not
    show: a download (a 204 or 205 is aborted too, and is nothing to wait for)."""
    try:
        response = await navigation.response()
    except PlaywrightError:
        return False
    return response is not None and 200 <= response.status < 300 and response.status not in (204, 205)
