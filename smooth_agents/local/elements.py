"""Element-level browser work for a model: a compact page state whose elements carry refs, and
the actions that address them (click, type, select, hover, press, scroll, back, wait for text).

The page state is an outline of what a person sees: headings, short text, and every interactive
element with its role, name, value and a ref (``e7``). An element keeps its ref while it stays on
the page, and a ref is never given to another element (numbers only grow, across pages and
tabs): an action whose ref is not in the last page state, or whose element has gone, is answered
with a message telling the model to look again, never run on a different element.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from .errors import ActionFailed

REF_ATTRIBUTE = "data-smooth-ref"
# What an action needs to know of the elements carrying one ref, in one main-world call (a
# locator's first query on a new document costs ~40 ms: Playwright builds its injected script
# then, and the click pays that once anyway): how many there are, whether one takes a secret (by
# its type or autocomplete purpose) and whether a click on it opens a link in another tab.
_ELEMENT_FACTS_JS = """([attribute, ref]) => {
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
  return {count: found.length, secret, opensTab};
}"""
DEFAULT_STATE_BUDGET = 8_000  # characters of outline (about 2,000 tokens)

# One walk of the visible DOM, in document order: refs set on interactive elements, an outline
# line per interactive element, heading and run of text. Hidden subtrees (by CSS or aria-hidden),
# scripts and styles are skipped, and so is what lies wholly above the view once the page is
# scrolled (so scrolling brings the rest of a long page into the outline).
_OUTLINE_JS = """
({ budget, start }) => {
  const ATTR = "%(attr)s";
  const lines = []; let size = 0; let cut = false; let next = start; const given = new Set();
  let above = 0; let lastTarget = "";
  const push = (line) => {
    if (cut) return false;
    if (size + line.length + 1 > budget) { cut = true; return false; }
    lines.push(line); size += line.length + 1; return true;
  };
  const clean = (s, n) => (s || "").replace(/\\s+/g, " ").trim().slice(0, n);
  const SKIP = new Set(["script", "style", "noscript", "template", "head", "link", "meta"]);
  const INTERACTIVE = new Set(["button", "link", "checkbox", "radio", "textbox", "searchbox",
    "combobox", "listbox", "menuitem", "menuitemcheckbox", "menuitemradio", "option", "tab",
    "switch", "slider", "spinbutton", "treeitem"]);
  const LEAF = new Set(["button", "link", "textbox", "searchbox", "combobox", "checkbox", "radio",
    "switch", "slider", "spinbutton", "option", "menuitem", "menuitemcheckbox", "menuitemradio", "tab"]);
  const scrolled = window.scrollY > 0;
  const onPage = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.right + scrollX > 0 && box.bottom + scrollY > 0
      && box.left + scrollX < document.documentElement.scrollWidth;
  };
  const shown = (el, style) => {
    if (style.display === "none" || style.visibility !== "visible") return false;
    // aria-hidden content is hidden from screen readers, not always from the eye (a carousel's
    // other slides, a copy of a menu): kept when it is drawn on the page, dropped when it is
    // parked off the page.
    if (el.getAttribute("aria-hidden") === "true" && !onPage(el)) return false;
    return true;
  };
  const roleOf = (el, tag) => {
    const explicit = (el.getAttribute("role") || "").split(" ")[0];
    if (explicit) return INTERACTIVE.has(explicit) ? explicit : null;
    if (tag === "a" && el.hasAttribute("href")) return "link";
    if (tag === "button" || tag === "summary") return "button";
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (tag === "textarea") return "textbox";
    if (tag === "input") {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (type === "hidden") return null;
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox") return "checkbox";
      if (type === "radio") return "radio";
      if (type === "search") return "searchbox";
      if (type === "range") return "slider";
      if (type === "number") return "spinbutton";
      return "textbox";
    }
    if (el.isContentEditable && el.parentElement && !el.parentElement.isContentEditable) return "textbox";
    if (el.hasAttribute("onclick")) return "button";
    return null;
  };
  const labelled = (el) => {
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const texts = ids.map((id) => {
      const found = document.getElementById(id);
      return found ? found.innerText || found.textContent : "";
    });
    return clean(texts.join(" "), 80);
  };
  const nameOf = (el, tag) => {
    const label = el.getAttribute("aria-label"); if (label && label.trim()) return clean(label, 80);
    const by = labelled(el); if (by) return by;
    if (el.labels && el.labels.length) return clean(el.labels[0].innerText, 80);
    const wrapping = el.closest("label");
    if (wrapping && wrapping !== el) return clean(wrapping.innerText, 80);
    // A field's own text is its value, not its name (a select's would be all its options).
    const pressable = tag === "input" && ["submit", "button", "reset"].includes(el.type);
    if (!["select", "textarea", "input"].includes(tag)) {
      const text = clean(el.innerText, 80); if (text) return text;
    }
    if (pressable && el.value) return clean(el.value, 80);
    for (const attr of ["placeholder", "title", "alt", "name"]) {
      const value = el.getAttribute(attr); if (value) return clean(value, 80);
    }
    // A link or button shown as an image or an icon: its alt text or its SVG title.
    const img = el.querySelector("img[alt]:not([alt=''])");
    if (img) return clean(img.getAttribute("alt"), 80);
    const title = el.querySelector("svg title"); if (title) return clean(title.textContent, 80);
    return "";
  };
  const target = (el) => {
    const href = el.getAttribute("href") || "";
    if (!href || href.startsWith("javascript:")) return "";
    // Where a link goes, short: the path on this site, the host and path elsewhere (no query:
    // tracking parameters are most of a long address); the ref is what an action uses.
    let shownHref = href;
    try {
      const url = new URL(href, location.href);
      const here = url.origin === location.origin;
      const query = url.search.length <= 30 ? url.search : "?...";
      shownHref = here ? url.pathname + query : url.host + url.pathname;
    } catch (e) {}
    return shownHref.length > 70 ? shownHref.slice(0, 67) + "..." : shownHref;
  };
  const element = (el, tag, role, indent) => {
    // An element keeps its ref while it is on the page; a new one (or a copy made by cloning
    // a marked element) gets the next number, never one given before.
    let ref = el.getAttribute(ATTR);
    if (!ref || given.has(ref)) { ref = "e" + next++; el.setAttribute(ATTR, ref); }
    given.add(ref);
    let line = indent + "- " + role + ' "' + nameOf(el, tag) + '" [ref=' + ref + "]";
    if (role === "link") {
      const to = target(el);
      if (to && to !== lastTarget) line += " -> " + to;
      lastTarget = to;
    }
    if (["textbox", "searchbox", "combobox", "spinbutton", "slider"].includes(role)) {
      const chosen = tag === "select" ? el.selectedOptions[0] : null;
      const typed = el.value || (el.isContentEditable ? el.innerText : "");
      const value = tag === "select" ? (chosen ? chosen.text : "") : typed;
      if (value) line += ' value="' + clean(value, 60) + '"';
    }
    if (tag === "select") {
      const options = Array.from(el.options).slice(0, 20).map((o) => clean(o.text, 30));
      line += " options: " + options.join(" | ") + (el.options.length > 20 ? " | ..." : "");
    }
    if (["checkbox", "radio", "switch"].includes(role)) {
      const on = el.checked === true || el.getAttribute("aria-checked") === "true";
      line += on ? " checked" : " unchecked";
    }
    if (el.disabled || el.getAttribute("aria-disabled") === "true") line += " disabled";
    if (el.getAttribute("aria-expanded") === "false") line += " collapsed";
    push(line);
  };
  // Text runs across inline elements (bold, spans) until a block, a heading or an interactive
  // element ends them: one line per run, in document order.
  let run = ""; let runIndent = "";
  const flush = () => {
    const text = clean(run, 200); run = "";
    if (text) push(runIndent + text);
  };
  const INLINE = new Set(["inline", "inline-block", "inline-flex", "contents"]);
  const walk = (el, depth, inHeading) => {
    if (cut) return;
    const tag = el.tagName.toLowerCase();
    if (SKIP.has(tag)) return;
    const style = getComputedStyle(el);
    if (!shown(el, style)) return;
    if (scrolled && style.position !== "fixed" && style.position !== "sticky") {
      const box = el.getBoundingClientRect();
      if (box.bottom < 0 && box.height > 0) { above++; return; }
    }
    const indent = "  ".repeat(Math.min(depth, 6));
    const role = roleOf(el, tag);
    const block = !INLINE.has(style.display);
    if (role) {
      if (el.getClientRects().length === 0 && style.display !== "contents") return;  // no box
      flush();
      element(el, tag, role, indent);
      if (LEAF.has(role)) return;
    } else if (/^h[1-6]$/.test(tag) && !inHeading) {
      flush();
      push(indent + "#".repeat(Number(tag[1])) + " " + clean(el.innerText, 120));
      // The heading's own links and buttons still get refs (the heading gave their text).
      for (const child of el.children) walk(child, depth + 1, true);
      return;
    }
    if (tag === "svg") return;
    if (tag === "label" && el.control) {
      // Its text names the field it labels (shown on the field's line): only its elements.
      for (const child of el.children) walk(child, depth, inHeading);
      return;
    }
    if (block) flush();
    for (const child of el.childNodes) {
      if (cut) return;
      if (child.nodeType === 3) {
        if (inHeading || role) continue;
        if (!run.trim()) runIndent = indent;
        run += child.textContent;
      } else if (child.nodeType === 1) {
        walk(child, depth + (role ? 1 : 0), inHeading);
      }
    }
    if (block || role) flush();
  };
  if (document.body) { walk(document.body, 0, false); flush(); }
  const active = document.activeElement;
  const focused = active && active !== document.body ? active.getAttribute(ATTR) : null;
  const refs = Array.from(given);
  return { lines, cut, above, refs, next, title: document.title, url: location.href, focused };
}
""".replace("%(attr)s", REF_ATTRIBUTE)


@dataclass
class PageState:
    url: str
    title: str
    outline: str
    refs: int
    cut: bool
    # The ref of the element that has the focus (where typed keys go), if it has one.
    focused: str | None = None
    # The other tabs of the session, as "index: title - url" (shown only when there are some).
    tabs: tuple[str, ...] = ()
    # Parts of the page wholly above the view (left out of the outline: scroll up to see them).
    above: int = 0
    # What became of the page's downloads since the last page state (started, finished, refused).
    downloads: tuple[str, ...] = ()

    def as_text(self) -> str:
        head = f"URL: {self.url}\nTitle: {self.title or '(none)'}\n"
        if self.downloads:
            head += "Downloads: " + "; ".join(self.downloads) + "\n"
        if self.tabs:
            head += "Other tabs (switch_tab): " + "; ".join(self.tabs) + "\n"
        if self.focused:
            head += f"Focused: {self.focused}\n"
        if self.above:
            head += "(the page above the view is left out: scroll up to see it)\n"
        more = "\n(the outline was cut at its budget: scroll down for the rest, or read_page for the text)"
        return head + (self.outline or "(nothing visible)") + (more if self.cut else "")


class ElementActions:
    """The element-level actions on one page, and the refs of its last page state."""

    def __init__(self, page: Page, *, timeout_ms: float = 10_000, first_ref: int = 1) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        # The next ref number to give (carried over when the agent moves to another page).
        self.next_ref = first_ref
        self._refs: set[str] = set()
        self._warming: asyncio.Future[None] | None = None

    async def state(self, budget: int = DEFAULT_STATE_BUDGET) -> PageState:
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
        try:
            found: dict[str, Any] = await self.page.evaluate(_OUTLINE_JS, self._outline_args(budget))
        except PlaywrightError as exc:
            if "context was destroyed" not in str(exc):
                raise ActionFailed(f"Could not read the page: {str(exc).splitlines()[0]}") from None
            # It navigated while being read (a script moving on): read the page it went to.
            with contextlib.suppress(PlaywrightError):
                await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
            found = await self.page.evaluate(_OUTLINE_JS, self._outline_args(budget))
        self._refs = {str(ref) for ref in found["refs"]}
        self.next_ref = max(self.next_ref, int(found["next"]))
        self._warm_up()
        return PageState(
            url=str(found["url"]),
            title=str(found["title"]),
            outline="\n".join(found["lines"]),
            refs=len(self._refs),
            cut=bool(found["cut"]),
            focused=found.get("focused") or None,
            above=int(found.get("above") or 0),
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

    async def _facts(self, ref: str) -> dict[str, Any] | None:
        """The facts of ``ref``'s elements (``_ELEMENT_FACTS_JS``); None for a ref this page state
        did not give, or a page that cannot be read."""
        if ref not in self._refs:
            return None
        try:
            facts: dict[str, Any] = await self.page.evaluate(_ELEMENT_FACTS_JS, [REF_ATTRIBUTE, ref])
        except PlaywrightError:
            return None
        return facts

    async def _element(self, ref: str) -> tuple[Any, dict[str, Any]]:
        """The locator of ``ref``'s one element, and its facts; a stale ref is refused."""
        facts = await self._facts(ref)
        if facts is None or facts["count"] != 1:
            self._refs.discard(ref)
            raise ActionFailed(
                f"The element {ref!r} is not on the page any more (or the ref is from an older page "
                "state): call page_state to look again, then use a ref from it."
            )
        return self.page.locator(f'[{REF_ATTRIBUTE}="{ref}"]'), facts

    async def _settle(self) -> None:
        # Playwright's actions wait for a navigation they start to commit; the new document's
        # DOM is then what the next look should see.
        with contextlib.suppress(PlaywrightError):
            await self.page.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)

    async def _run(self, what: str, action: Any) -> str:
        try:
            await action
        except PlaywrightError as exc:
            raise ActionFailed(f"{what} failed: {str(exc).splitlines()[0]}") from None
        await self._settle()
        return f"{what}: done. Now at {self.page.url}"

    async def click(self, ref: str) -> str:
        element, facts = await self._element(ref)
        if not facts["opensTab"]:
            return await self._run(f"click {ref}", element.click(timeout=self.timeout_ms))
        # A link to another tab: the tab arrives just after the click returns. Waited for, so
        # that the page state answering the click lists it.
        done = ""
        try:
            async with self.page.context.expect_page(timeout=min(self.timeout_ms, 5_000)) as opened:
                done = await self._run(f"click {ref}", element.click(timeout=self.timeout_ms))
            tab = await opened.value
            with contextlib.suppress(PlaywrightError):
                await tab.wait_for_load_state("domcontentloaded", timeout=self.timeout_ms)
        except PlaywrightTimeoutError:  # no tab came (a popup refused): the click stands
            return done or f"click {ref}: done. Now at {self.page.url}"
        return f"{done}; it opened a new tab (switch_tab to use it)"

    async def type(self, ref: str, text: str, *, submit: bool = False) -> str:
        element, _ = await self._element(ref)
        done = await self._run(f"type into {ref}", element.fill(text, timeout=self.timeout_ms))
        if submit:
            done = await self._run(f"submit {ref}", element.press("Enter", timeout=self.timeout_ms))
        return done

    async def select(self, ref: str, option: str) -> str:
        element, _ = await self._element(ref)
        try:
            await element.select_option(label=option, timeout=self.timeout_ms)
        except PlaywrightError:
            return await self._run(f"select {option!r} in {ref}", element.select_option(option))
        await self._settle()
        return f"select {option!r} in {ref}: done"

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
