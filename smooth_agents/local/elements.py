"""Element-level browser work for a model: a compact page state whose elements carry refs, and
the actions that address them (click, type, select, hover, press, scroll, back, wait for text).

The page state is an outline of what a person sees: headings, short text, and every interactive
element with its role, name, value and a ref (``e7``). An element keeps its ref while it stays on
the page, and a ref is never given to another element (numbers only grow, across pages and
tabs): an action whose ref is not in the last page state, or whose element has gone, is answered
with a message telling the model to look again, never run on a different element.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from .errors import ActionFailed

REF_ATTRIBUTE = "data-smooth-ref"
DEFAULT_STATE_BUDGET = 8_000  # characters of outline (about 2,000 tokens)

# One walk of the visible DOM: refs set on interactive elements, an outline line per element
# worth showing. Hidden subtrees, scripts and styles are skipped.
_OUTLINE_JS = """
({ budget, start }) => {
  const ATTR = "%(attr)s";
  const lines = []; let size = 0; let cut = false; let next = start; const given = new Set();
  const push = (line) => {
    if (size + line.length + 1 > budget) { cut = true; return false; }
    lines.push(line); size += line.length + 1; return true;
  };
  const clean = (s, n) => (s || "").replace(/\\s+/g, " ").trim().slice(0, n);
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return false;
    if (el.hasAttribute("hidden") || el.getAttribute("aria-hidden") === "true") return false;
    return true;
  };
  const roleOf = (el) => {
    const explicit = el.getAttribute("role"); if (explicit) return explicit;
    const tag = el.tagName.toLowerCase();
    if (tag === "a" && el.hasAttribute("href")) return "link";
    if (tag === "button" || tag === "summary") return "button";
    if (tag === "select") return "combobox";
    if (tag === "textarea") return "textbox";
    if (tag === "input") {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (type === "hidden") return null;
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox") return "checkbox";
      if (type === "radio") return "radio";
      if (type === "search") return "searchbox";
      return "textbox";
    }
    if (el.isContentEditable && el.parentElement && !el.parentElement.isContentEditable) return "textbox";
    if (el.hasAttribute("onclick")) return "button";
    return null;
  };
  const nameOf = (el) => {
    const label = el.getAttribute("aria-label"); if (label) return clean(label, 80);
    if (el.id) {
      const l = document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
      if (l) return clean(l.innerText, 80);
    }
    const wrapping = el.closest("label");
    if (wrapping && wrapping !== el) return clean(wrapping.innerText, 80);
    const text = clean(el.innerText || el.value || "", 80); if (text) return text;
    for (const attr of ["placeholder", "title", "alt", "name"]) {
      const value = el.getAttribute(attr); if (value) return clean(value, 80);
    }
    return "";
  };
  const walk = (el, depth) => {
    if (cut || !visible(el)) return;
    const tag = el.tagName.toLowerCase();
    if (["script", "style", "noscript", "template", "svg", "head"].includes(tag)) return;
    const indent = "  ".repeat(Math.min(depth, 6));
    const role = roleOf(el);
    if (role) {
      // An element keeps its ref while it is on the page; a new one (or a copy made by cloning
      // a marked element) gets the next number, never one given before.
      let ref = el.getAttribute(ATTR);
      if (!ref || given.has(ref)) { ref = "e" + next++; el.setAttribute(ATTR, ref); }
      given.add(ref);
      let line = indent + "- " + role + ' "' + nameOf(el) + '" [ref=' + ref + "]";
      if (role === "link") {
        const href = el.getAttribute("href") || "";
        if (href && !href.startsWith("javascript:")) line += " -> " + clean(href, 100);
      }
      if (["textbox", "searchbox", "combobox"].includes(role)) {
        const chosen = tag === "select" ? el.selectedOptions[0] : null;
        const value = tag === "select" ? (chosen ? chosen.text : "") : el.value;
        if (value) line += ' value="' + clean(value, 60) + '"';
        if (tag === "select") {
          const options = Array.from(el.options).slice(0, 20).map(o => clean(o.text, 30));
          line += " options: " + options.join(" | ");
        }
      }
      if (["checkbox", "radio"].includes(role)) line += el.checked ? " checked" : " unchecked";
      if (el.disabled) line += " disabled";
      push(line);
      if (["button", "link", "textbox", "searchbox", "combobox", "checkbox", "radio"].includes(role)) return;
    } else if (/^h[1-6]$/.test(tag)) {
      push(indent + "#".repeat(Number(tag[1])) + " " + clean(el.innerText, 120)); return;
    }
    let own = "";
    for (const child of el.childNodes) if (child.nodeType === 3) own += child.textContent;
    own = clean(own, 200);
    if (own && !role) push(indent + own);
    for (const child of el.children) walk(child, depth + (role ? 1 : 0));
  };
  if (document.body) walk(document.body, 0);
  const active = document.activeElement;
  const focused = active && active !== document.body ? active.getAttribute(ATTR) : null;
  return { lines, cut, refs: Array.from(given), next, title: document.title, url: location.href, focused };
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

    def as_text(self) -> str:
        head = f"URL: {self.url}\nTitle: {self.title or '(none)'}\n"
        if self.tabs:
            head += "Other tabs (switch_tab): " + "; ".join(self.tabs) + "\n"
        if self.focused:
            head += f"Focused: {self.focused}\n"
        more = "\n(the outline was cut at its budget: scroll, or read_page for the text)" if self.cut else ""
        return head + (self.outline or "(nothing visible)") + more


class ElementActions:
    """The element-level actions on one page, and the refs of its last page state."""

    def __init__(self, page: Page, *, timeout_ms: float = 10_000, first_ref: int = 1) -> None:
        self.page = page
        self.timeout_ms = timeout_ms
        # The next ref number to give (carried over when the agent moves to another page).
        self.next_ref = first_ref
        self._refs: set[str] = set()

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
        return PageState(
            url=str(found["url"]),
            title=str(found["title"]),
            outline="\n".join(found["lines"]),
            refs=len(self._refs),
            cut=bool(found["cut"]),
            focused=found.get("focused") or None,
        )

    def _outline_args(self, budget: int) -> dict[str, int]:
        return {"budget": budget, "start": self.next_ref}

    async def _element(self, ref: str) -> Any:
        stale = (
            f"The element {ref!r} is not on the page any more (or the ref is from an older page "
            "state): call page_state to look again, then use a ref from it."
        )
        if ref not in self._refs:
            raise ActionFailed(stale)
        locator = self.page.locator(f'[{REF_ATTRIBUTE}="{ref}"]')
        if await locator.count() != 1:
            self._refs.discard(ref)
            raise ActionFailed(stale)
        return locator

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
        element = await self._element(ref)
        return await self._run(f"click {ref}", element.click(timeout=self.timeout_ms))

    async def type(self, ref: str, text: str, *, submit: bool = False) -> str:
        element = await self._element(ref)
        done = await self._run(f"type into {ref}", element.fill(text, timeout=self.timeout_ms))
        if submit:
            done = await self._run(f"submit {ref}", element.press("Enter", timeout=self.timeout_ms))
        return done

    async def select(self, ref: str, option: str) -> str:
        element = await self._element(ref)
        try:
            await element.select_option(label=option, timeout=self.timeout_ms)
        except PlaywrightError:
            return await self._run(f"select {option!r} in {ref}", element.select_option(option))
        await self._settle()
        return f"select {option!r} in {ref}: done"

    async def hover(self, ref: str) -> str:
        element = await self._element(ref)
        return await self._run(f"hover {ref}", element.hover(timeout=self.timeout_ms))

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
