"""Element-level browser work for a model: the page state (an outline whose elements carry
refs, see outline.py) and the actions that address them (click, type, select, hover, press,
scroll, back, wait for text).

An element keeps its ref while it stays on the page, and a ref is never given to another element
(numbers only grow, across pages and tabs): an action whose ref is not in the last page state, or
whose element has gone, is answered with a message telling the model to look again, never run on
a different element. Each action waits for what it started (settle.py) before it answers, so the
page state after it shows its effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from ..errors import ActionFailed
from .outline import DEFAULT_STATE_BUDGET, OUTLINE_JS, REF_ATTRIBUTE, PageState
from .settle import ARM_JS, DEFAULT_SETTLE_CAP, ActionWatch, arm_arguments

__all__ = ["DEFAULT_STATE_BUDGET", "REF_ATTRIBUTE", "ElementActions", "PageState"]

# What an action needs to know of the elements carrying one ref, in one main-world call (a
# locator's first query on a new document costs ~40 ms: Playwright builds its injected script
# then, and the click pays that once anyway): how many there are, whether one takes a secret (by
# its type or autocomplete purpose) and whether a click on it opens a link in another tab. With
# ``aim`` (a click), also where to press it: the middle of its first box, scrolled into the window
# if it is not wholly there, when the element itself (or what is inside it) is what a press there
# reaches and it is enabled; else no point, and Playwright's own click waits for it and says why.
_ELEMENT_FACTS_JS = """([attribute, ref, aim, arm]) => {
  const found = Array.from(document.querySelectorAll(`[${attribute}="${ref}"]`));
  const secret = found.some((el) => {
    const auto = (el.getAttribute("autocomplete") || "").toLowerCase();
    return el.type === "password" || /password|cc-number|cc-csc|one-time-code/.test(auto);
  });
  const link = found.length === 1 ? found[0].closest("a[href], area[href]") : null;
  let opensTab = false;
  if (link) {
    const base = document.querySelector("base[target]");
    const named = link.getAttribute("target") || (base ? base.getAttribute("target") : "") || "";
    const target = named.toLowerCase();
    opensTab = target !== "" && !["_self", "_parent", "_top"].includes(target);
  }
  let point = null;
  if (aim && found.length === 1 && !found[0].disabled) {
    const el = found[0];
    const box = () => Array.from(el.getClientRects()).find((b) => b.width > 0 && b.height > 0);
    let first = box();
    const outside = (b) => b.top < 0 || b.left < 0 || b.bottom > innerHeight || b.right > innerWidth;
    if (first && outside(first)) {
      el.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
      first = box();
    }
    if (first) {
      const x = first.left + first.width / 2, y = first.top + first.height / 2;
      const hit = document.elementFromPoint(x, y);
      if (hit && (hit === el || el.contains(hit))) point = [x, y];
    }
  }
  // The action's watch (settle.py), armed here when the action will run: one round trip fewer.
  const armed = arm && found.length === 1 ? (%(arm)s)(arm) : null;
  return {count: found.length, secret, opensTab, point, armed};
}""".replace("%(arm)s", ARM_JS)


# What Playwright's call log says kept an element from being acted on (its last such line is the
# reason a timeout came): something over it, or the element not visible, enabled, stable, editable.
_HINDRANCE = re.compile(r"intercepts pointer events|element is not \w+|element is outside of the viewport")


def _why(exc: PlaywrightError) -> str:
    """The failure's first line, and what kept the element from being acted on, when its call log
    says (the model can then close a banner or scroll instead of trying the same again)."""
    lines = str(exc).splitlines()
    reasons = [line.strip(" -") for line in lines[1:] if _HINDRANCE.search(line)]
    return lines[0] + (f" ({reasons[-1][:200]})" if reasons else "")


class ElementActions:
    """The element-level actions on one page, and the refs of its last page state."""

    def __init__(
        self,
        page: Page,
        *,
        timeout_ms: float = 10_000,
        first_ref: int = 1,
        settle_cap: float = DEFAULT_SETTLE_CAP,
    ) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        # How long an action waits at most for what it started (see settle.py), in seconds.
        self.settle_cap = settle_cap
        # Set when the last action's wait ended at its cap; told by the next page state.
        self._still_changing = False
        # The next ref number to give (carried over when the agent moves to another page).
        self.next_ref = first_ref
        self._refs: set[str] = set()
        self._warming: asyncio.Future[None] | None = None

    async def state(self, budget: int = DEFAULT_STATE_BUDGET) -> PageState:
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
        try:
            found: dict[str, Any] = await self.page.evaluate(OUTLINE_JS, self._outline_args(budget))
        except PlaywrightError as exc:
            if "context was destroyed" not in str(exc):
                raise ActionFailed(f"Could not read the page: {str(exc).splitlines()[0]}") from None
            # It navigated while being read (a script moving on): read the page it went to.
            with contextlib.suppress(PlaywrightError):
                await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
            found = await self.page.evaluate(OUTLINE_JS, self._outline_args(budget))
        self._refs = {str(ref) for ref in found["refs"]}
        self.next_ref = max(self.next_ref, int(found["next"]))
        self._warm_up()
        still_changing, self._still_changing = self._still_changing, False
        return PageState(
            url=str(found["url"]),
            title=str(found["title"]),
            outline="\n".join(found["lines"]),
            refs=len(self._refs),
            cut=bool(found["cut"]),
            focused=found.get("focused") or None,
            above=int(found.get("above") or 0),
            still_changing=self.settle_cap if still_changing else None,
        )

    def _warm_up(self) -> None:
        """Have Playwright build its injected script in this document while the model reads the
        state: the first locator action on a new document otherwise spends ~40 ms on it, after
        the model's call. Nothing waits for it; a page that closes or hangs just ends it."""
        if self._warming is not None and not self._warming.done():
            return  # one at a time (a page stuck in a script would pile them up)

        async def warm() -> None:
            with contextlib.suppress(PlaywrightError):
                await self.page.locator(":root").count()

        self._warming = asyncio.ensure_future(warm())

    def _outline_args(self, budget: int) -> dict[str, int]:
        return {"budget": budget, "start": self.next_ref}

    async def _facts(self, ref: str, *, aim: bool = False, arm: bool = False) -> dict[str, Any] | None:
        """The facts of ``ref``'s elements (``_ELEMENT_FACTS_JS``; ``aim``: with where to press
        it; ``arm``: the action's watch armed, when it has one); None for a ref this page state
        did not give, or a page that cannot be read."""
        if ref not in self._refs:
            return None
        watch = arm_arguments(REF_ATTRIBUTE, self.settle_cap) if arm and self.settle_cap > 0 else None
        try:
            asked = [REF_ATTRIBUTE, ref, aim, watch]
            facts: dict[str, Any] = await self.page.evaluate(_ELEMENT_FACTS_JS, asked)
        except PlaywrightError:
            return None
        return facts

    async def _element(self, ref: str, *, aim: bool = False, arm: bool = False) -> tuple[Any, dict[str, Any]]:
        """The locator of ``ref``'s one element, and its facts; a stale ref is refused. ``arm``:
        the action comes next, and its watch is armed in the same call (``facts["armed"]``)."""
        facts = await self._facts(ref, aim=aim, arm=arm)
        if facts is None or facts["count"] != 1:
            self._refs.discard(ref)
            raise ActionFailed(
                f"The element {ref!r} is not on the page any more (or the ref is from an older page "
                "state): call page_state to look again, then use a ref from it."
            )
        return self.page.locator(f'[{REF_ATTRIBUTE}="{ref}"]'), facts

    async def _run(self, what: str, action: Any, *, armed: bool | None = None) -> str:
        """Run ``action`` (a coroutine not yet started), then wait for what it started (see
        settle.py): the next page state shows its effect, or says the page was still changing.
        With a cap of 0, only for a navigation's document (as Playwright's action itself does)."""
        watch = None
        if self.settle_cap > 0:
            watch = ActionWatch(
                self.page,
                ref_attribute=REF_ATTRIBUTE,
                cap=self.settle_cap,
                navigation_timeout=self.timeout_ms / 1000,
            )
            await watch.start(armed=armed)
        try:
            await action
        except PlaywrightError as exc:
            if watch is not None:
                await watch.stop()
            raise ActionFailed(f"{what} failed: {_why(exc)}") from None
        except BaseException:
            if watch is not None:
                watch.stop_listening()  # cancelled: the page is left as it is
            raise
        if watch is not None:
            self._still_changing = not await watch.settle()
        else:
            with contextlib.suppress(PlaywrightError):
                await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
        return f"{what}: done. Now at {self.page.url}"

    async def click(self, ref: str) -> str:
        element, facts = await self._element(ref, aim=True, arm=True)
        armed = facts.get("armed")
        if not facts["opensTab"]:
            return await self._run(f"click {ref}", self._press(element, facts.get("point")), armed=armed)
        # A link to another tab: the tab arrives just after the click returns. Waited for, so
        # that the page state answering the click lists it.
        done = ""
        try:
            async with self.page.context.expect_page(timeout=min(self.timeout_ms, 5_000)) as opened:
                done = await self._run(f"click {ref}", element.click(timeout=self.timeout_ms), armed=armed)
            tab = await opened.value
            with contextlib.suppress(PlaywrightError):
                await tab.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
        except PlaywrightTimeoutError:  # no tab came (a popup refused): the click stands
            return done or f"click {ref}: done. Now at {self.page.url}"
        return f"{done}; it opened a new tab (switch_tab to use it)"

    async def _press(self, element: Any, point: list[float] | None) -> None:
        """A click: at ``point`` when the element's facts found one (in the window, enabled, and
        what a press there reaches), three input events and nothing else; otherwise Playwright's
        click, which waits for the element to be visible, still, enabled and reachable, and says
        what kept it from being so. Either way settle.py then waits for what the click started
        (Playwright's own wait for a navigation included)."""
        if point is None or self.settle_cap <= 0:  # with no settle, Playwright waits for the navigation
            await element.click(timeout=self.timeout_ms)
            return
        await self.page.mouse.click(point[0], point[1])

    async def type(self, ref: str, text: str, *, submit: bool = False) -> str:
        element, facts = await self._element(ref, arm=True)
        armed = facts.get("armed")
        if not submit:
            typing = element.fill(text, timeout=self.timeout_ms)
            return await self._run(f"type into {ref}", typing, armed=armed)

        async def fill_and_submit() -> None:
            await element.fill(text, timeout=self.timeout_ms)
            await element.press("Enter", timeout=self.timeout_ms)

        # One watch over both: what the typing started (suggestions) and the submission's page.
        return await self._run(f"type into {ref} and submit", fill_and_submit(), armed=armed)

    async def select(self, ref: str, option: str) -> str:
        element, _ = await self._element(ref)

        async def choose() -> None:
            try:
                await element.select_option(label=option, timeout=self.timeout_ms)
            except PlaywrightError:  # not a label: a value
                await element.select_option(option, timeout=self.timeout_ms)

        return await self._run(f"select {option!r} in {ref}", choose())

    async def is_secret(self, ref: str) -> bool:
        """True when the element of ``ref`` takes a secret: a password, a card's number or code,
        a one-time code (what is typed there is kept out of events and logs)."""
        facts = await self._facts(ref)
        return bool(facts and facts["secret"])

    async def hover(self, ref: str) -> str:
        element, _ = await self._element(ref)
        return await self._run(f"hover {ref}", element.hover(timeout=self.timeout_ms))

    async def drag(self, source_ref: str, target_ref: str) -> str:
        """Drag one element (its ref) onto another: mouse down, move, release, with the drag
        events pages listen to."""
        source, _ = await self._element(source_ref)
        target, _ = await self._element(target_ref)
        return await self._run(
            f"drag {source_ref} to {target_ref}", source.drag_to(target, timeout=self.timeout_ms)
        )

    async def press(self, key: str) -> str:
        return await self._run(f"press {key}", self.page.keyboard.press(key))

    async def scroll(self, down: bool = True) -> str:
        height = await self.page.evaluate("window.innerHeight")
        return await self._run("scroll", self.page.mouse.wheel(0, (0.8 if down else -0.8) * float(height)))

    async def back(self) -> str:
        return await self._run("back", self.page.go_back(timeout=self.timeout_ms))

    async def wait_for_text(self, text: str, timeout_s: float = 10.0) -> str:
        locator = self.page.get_by_text(text).first
        try:
            await locator.wait_for(timeout=min(timeout_s * 1000, self.timeout_ms * 3))
        except PlaywrightError:
            raise ActionFailed(f"{text!r} did not appear within {timeout_s:g} s") from None
        return f"{text!r} is on the page"
