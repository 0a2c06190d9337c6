"""The page state a model reads: an outline of what a person sees, whose interactive elements
carry refs.

One walk of the visible DOM in the page, in document order: headings, short runs of text, and
every interactive element (by its role, or a pointer cursor a page gave it) with its role, the
name a person reads for it, its value and a ref (``e7``) written on the element as an attribute.
When the outline is cut at its budget, the elements the window shows past the cut (a cookie
banner a page appends at its end) are listed at its end, in place of its last lines.
"""

from __future__ import annotations

from dataclasses import dataclass

REF_ATTRIBUTE = "data-smooth-ref"
DEFAULT_STATE_BUDGET = 8_000  # characters of outline (about 2,000 tokens)

# How the outline names an element: as a person reads it. The ARIA order (aria-label,
# aria-labelledby, its labels, its text, then its attributes) with two changes: a label's own
# words name the field in it (not the field's options or value), and a control with no words at
# all (a picture, an icon) is described by what it has, in parentheses: a name on one of its
# parts, the words its author left in the file name of its picture, its icon's id or its classes
# ("(icon: cart)"), else what it looks like ("(icon, red)"); never an empty string.
_NAMES_JS = """
  const FIELDS = new Set(["select", "textarea", "input", "button", "option", "optgroup", "datalist"]);
  const labelled = (el) => {
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    const texts = ids.map((id) => {
      const found = document.getElementById(id);
      return found ? found.innerText || found.textContent : "";
    });
    return clean(texts.join(" "), 80);
  };
  // A label's own words: its shown text, without the fields in it.
  const labelText = (label) => {
    let text = "";
    const visit = (node) => {
      for (const child of node.childNodes) {
        if (child.nodeType === 3) { text += child.textContent; continue; }
        if (child.nodeType !== 1) continue;
        const tag = child.tagName.toLowerCase();
        if (FIELDS.has(tag) || SKIP.has(tag)) continue;
        const style = getComputedStyle(child);
        if (style.display === "none" || style.visibility === "hidden") continue;
        const block = !INLINE.has(style.display);
        if (block) text += " ";
        visit(child);
        if (block) text += " ";
      }
    };
    visit(label);
    return clean(text, 80);
  };
  // Words of an author's names ("btn-social-facebook", "navDrawer__close", "icon-cart.svg"), the
  // most specific part of a BEM name first; hashes, numbers and words of layout are left out.
  const NOISE = new Set(["btn", "button", "buttons", "icon", "icons", "ico", "glyphicon", "svg",
    "img", "image", "images", "input", "link", "links", "wrapper", "wrap", "container", "inner",
    "outer", "module", "item", "items", "default", "block", "regular", "primary", "secondary",
    "tertiary", "mobile", "desktop", "only", "show", "hide", "hidden", "small", "large", "medium",
    "normal", "size", "text", "box", "clearfix", "active", "selected", "visible", "main", "content",
    "media", "global", "common", "component", "element", "widget", "type", "data", "uploads",
    "static", "assets", "thumbnail", "thumb", "full", "the", "and", "for", "with", "sprite",
    "base", "style", "class", "inline", "flex", "grid", "col", "row", "wide", "lazy", "placeholder",
    "blank", "spacer", "transparent", "loading", "loader", "pixel"]);
  const wordsOf = (names) => {
    const found = [];
    for (const name of String(names || "").split(/\\s+/)) {
      for (const part of name.split(/__|--/).reverse()) {
        for (const chunk of part.split(/[^A-Za-z0-9]+/)) {
          if (!chunk || /\\d/.test(chunk)) continue;  // a hash or a number
          for (const word of chunk.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().split(" ")) {
            if (word.length > 2 && /[aeiouy]/.test(word) && !NOISE.has(word) && !found.includes(word)) {
              found.push(word);
            }
          }
        }
      }
    }
    return found.slice(0, 3);
  };
  const fileWords = (url) => {
    const file = String(url || "").split(/[?#]/)[0].split("/").pop() || "";
    return wordsOf(file.replace(/\\.[a-z0-9]+$/i, ""));
  };
  const COLOURS = [[15, "red"], [45, "orange"], [70, "yellow"], [170, "green"], [200, "teal"],
    [255, "blue"], [290, "purple"], [335, "pink"], [360, "red"]];
  const colourOf = (css) => {
    const m = /rgba?\\(([\\d.]+),? ([\\d.]+),? ([\\d.]+)(?:,? \\/? ?([\\d.]+))?/.exec(css || "");
    if (!m || (m[4] !== undefined && Number(m[4]) < 0.5)) return "";
    const [r, g, b] = [m[1], m[2], m[3]].map(Number);
    const max = Math.max(r, g, b); const min = Math.min(r, g, b);
    const light = (max + min) / 510; const chroma = (max - min) / 255;
    if (chroma < 0.15) return light > 0.85 ? "white" : light < 0.2 ? "black" : "grey";
    const d = max - min;
    let hue = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
    hue = (hue * 60 + 360) % 360;
    const name = COLOURS.find(([upTo]) => hue < upTo)[1];
    return name === "orange" && light < 0.35 ? "brown" : name;
  };
  const looks = (el, picture) => {
    const style = getComputedStyle(el);
    const filled = el.querySelector("svg");
    return colourOf(style.backgroundColor)
      || (picture ? "" : colourOf(filled ? getComputedStyle(filled).fill : style.color));
  };
  const describe = (el, tag, field) => {
    for (const part of el.querySelectorAll("[aria-label], [title], [alt], [data-tooltip]")) {
      const said = ["aria-label", "title", "alt", "data-tooltip"]
        .map((a) => part.getAttribute(a)).find((v) => v && v.trim());
      if (said) return clean(said, 80);
    }
    for (const attr of ["data-tooltip", "data-original-title", "data-title", "data-label"]) {
      const said = el.getAttribute(attr); if (said && said.trim()) return clean(said, 80);
    }
    const picture = tag === "img" || (tag === "input" && el.type === "image") ? el : el.querySelector("img");
    const use = el.querySelector("use");
    const sprite = use ? use.getAttribute("href") || use.getAttribute("xlink:href") || "" : "";
    const icon = sprite.split("#").pop();
    const background = /url\\(["']?([^"')]+)/.exec(getComputedStyle(el).backgroundImage || "");
    const parts = Array.from(el.querySelectorAll("[class]")).slice(0, 3);
    const sources = [
      () => wordsOf(icon),
      () => picture ? fileWords(picture.getAttribute("src")) : [],
      () => background ? fileWords(background[1]) : [],
      () => wordsOf(el.id),
      () => wordsOf(el.getAttribute("class")),
      ...parts.map((part) => () => wordsOf(part.getAttribute("class"))),
    ];
    const kind = field ? "unlabelled" : picture ? "image" : "icon";
    for (const source of sources) {
      const words = source();
      if (words.length) return "(" + kind + ": " + words.join(" ") + ")";
    }
    const colour = field ? "" : looks(el, picture);
    return "(" + kind + (colour ? ", " + colour : "") + ")";
  };
  const nameOf = (el, tag, role) => {
    const label = el.getAttribute("aria-label"); if (label && label.trim()) return clean(label, 80);
    const by = labelled(el); if (by) return by;
    const labels = el.labels ? Array.from(el.labels) : [];
    const wrapping = el.closest("label");
    if (wrapping && wrapping !== el && !labels.includes(wrapping)) labels.push(wrapping);
    for (const each of labels) { const own = labelText(each); if (own) return own; }
    // A field's own text is its value, not its name (a select's would be all its options).
    const field = ["select", "textarea", "input"].includes(tag);
    const pressable = tag === "input" && ["submit", "button", "reset"].includes(el.type);
    if (!field) {
      // A clickable block (a card) is named by its first line; the rest is shown under it.
      const text = clean(el.innerText, 81);
      if (text.length > 80 && role === "clickable") return clean(el.innerText.trim().split("\\n")[0], 80);
      if (text) return text.slice(0, 80);
    }
    if (pressable && el.value) return clean(el.value, 80);
    for (const attr of ["placeholder", "title", "alt", "name"]) {
      const value = el.getAttribute(attr); if (value && value.trim()) return clean(value, 80);
    }
    // What the browser writes on a submit or reset button that has no value.
    if (pressable && el.type !== "button") return el.type === "submit" ? "Submit" : "Reset";
    // A link or button shown as an image or an icon: its SVG title, else described.
    const title = el.querySelector("svg title");
    if (title && title.textContent.trim()) return clean(title.textContent, 80);
    return describe(el, tag, field && !pressable && el.type !== "image");
  };
"""

# One walk of the visible DOM, in document order: refs set on interactive elements, an outline
# line per interactive element, heading and run of text. Hidden subtrees (by CSS or aria-hidden),
# scripts and styles are skipped, and so is what lies wholly above the view once the page is
# scrolled (so scrolling brings the rest of a long page into the outline).
OUTLINE_JS = """
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
  const INLINE = new Set(["inline", "inline-block", "inline-flex", "contents"]);
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
  // Elements of their own to act on, inside another one (a button inside a link's card).
  const CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, [onclick],"
    + " [role=button], [role=link], [role=checkbox], [role=radio], [role=switch], [role=tab],"
    + " [role=menuitem], [role=option]";
  // An element a page made clickable by its look alone (a div or span with a pointer cursor, its
  // click handled by a script): where the pointer cursor starts (its children inherit it), and
  // only when it holds no control of its own (those get refs) and is not a label (its field has
  // one) or the whole page.
  const clickable = (el, tag, style, pointerAbove) => style.cursor === "pointer" && !pointerAbove
    && !["label", "body", "html", "option", "svg"].includes(tag) && !el.querySelector(CONTROLS);
%(names)s  const target = (el) => {
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
  const lineOf = (el, tag, role, indent) => {
    // An element keeps its ref while it is on the page; a new one (or a copy made by cloning
    // a marked element) gets the next number, never one given before.
    let ref = el.getAttribute(ATTR);
    if (!ref || given.has(ref)) { ref = "e" + next++; el.setAttribute(ATTR, ref); }
    given.add(ref);
    let line = indent + "- " + role + ' "' + nameOf(el, tag, role) + '" [ref=' + ref + "]";
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
    return line;
  };
  const element = (el, tag, role, indent) => push(lineOf(el, tag, role, indent));
  // What is in the window but lies past a cut (a cookie banner or a dialog a page appends at its
  // end and draws over the top): its elements are listed at the end, in place of the outline's
  // last lines, so that the model sees what a person sees first.
  const PAST_CUT = "a[href], button, input, select, textarea, summary, [onclick], [contenteditable], [role]";
  const PAST_CUT_MAX = 40;
  const inWindow = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
      && box.top < innerHeight && box.left < innerWidth;
  };
  // What a press at its middle reaches (not under a banner or a dialog): what a person can use now.
  const onTop = (el) => {
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return !!hit && (hit === el || el.contains(hit));
  };
  const addPastCut = () => {
    const reached = []; const covered = [];
    for (const el of document.querySelectorAll(PAST_CUT)) {
      if (reached.length >= PAST_CUT_MAX) break;
      if (given.has(el.getAttribute(ATTR)) || !inWindow(el)) continue;
      const tag = el.tagName.toLowerCase(); const role = roleOf(el, tag);
      if (!role || !el.checkVisibility({ visibilityProperty: true })) continue;
      (onTop(el) ? reached : covered).push([el, tag, role]);
    }
    // What a person can press first (a consent banner's buttons), then what lies under it.
    const found = reached.concat(covered).slice(0, PAST_CUT_MAX);
    if (!found.length) return;
    lastTarget = "";
    const added = found.map(([el, tag, role]) => lineOf(el, tag, role, ""));
    added.unshift("(in the window, past the cut:)");
    const need = added.reduce((total, line) => total + line.length + 1, 0);
    while (lines.length && size + need > budget) {
      const dropped = lines.pop(); size -= dropped.length + 1;
      for (const m of dropped.matchAll(/\\[ref=(e\\d+)\\]/g)) given.delete(m[1]);
    }
    lines.push(...added); size += need;
  };
  // Text runs across inline elements (bold, spans) until a block, a heading or an interactive
  // element ends them: one line per run, in document order.
  let run = ""; let runIndent = "";
  const flush = () => {
    const text = clean(run, 200); run = "";
    if (text) push(runIndent + text);
  };
  const walk = (el, depth, inHeading, pointerAbove) => {
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
    const pointer = style.cursor === "pointer";
    const role = roleOf(el, tag) || (clickable(el, tag, style, pointerAbove) ? "clickable" : null);
    const block = !INLINE.has(style.display);
    if (role) {
      if (el.getClientRects().length === 0 && style.display !== "contents") return;  // no box
      flush();
      element(el, tag, role, indent);
      // Its text is its name (a clickable block's, when short); a control inside it (a button
      // in a link's card) is walked to.
      const leaf = role === "clickable" ? clean(el.innerText, 81).length <= 80 : LEAF.has(role);
      if (leaf && !el.querySelector(CONTROLS)) return;
    } else if (/^h[1-6]$/.test(tag) && !inHeading) {
      flush();
      push(indent + "#".repeat(Number(tag[1])) + " " + clean(el.innerText, 120));
      // The heading's own links and buttons still get refs (the heading gave their text).
      for (const child of el.children) walk(child, depth + 1, true, pointer);
      return;
    }
    if (tag === "svg") return;
    if (tag === "label" && el.control) {
      // Its text names the field it labels (shown on the field's line): only its elements.
      for (const child of el.children) walk(child, depth, inHeading, pointer);
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
        walk(child, depth + (role ? 1 : 0), inHeading, pointer);
      }
    }
    if (block || role) flush();
  };
  if (document.body) { walk(document.body, 0, false, false); flush(); }
  if (cut) addPastCut();
  const active = document.activeElement;
  const focused = active && active !== document.body ? active.getAttribute(ATTR) : null;
  const refs = Array.from(given);
  return { lines, cut, above, refs, next, title: document.title, url: location.href, focused };
}
""".replace("%(attr)s", REF_ATTRIBUTE).replace("%(names)s", _NAMES_JS)


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
    # The wait after the last action stopped at its cap while the page was still changing (this
    # state may miss what came after): the cap, in seconds.
    still_changing: float | None = None

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
        if self.still_changing is not None:
            head += (
                f"(the page was still changing when the wait for it stopped at its {self.still_changing:g} s "
                "cap: call page_state or wait_for_text to see what came later)\n"
            )
        more = "\n(the outline was cut at its budget: scroll down for the rest, or read_page for the text)"
        return head + (self.outline or "(nothing visible)") + (more if self.cut else "")
