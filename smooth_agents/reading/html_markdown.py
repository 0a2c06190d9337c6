"""HTML to markdown, one way for every reader path: whitespace folded as a browser shows it,
then html-to-markdown (MIT, a Rust converter) with ATX headings, ``-`` bullets and GitHub tables.

It replaced markdownify, which re-parsed our HTML through BeautifulSoup in Python and took about
a third of the reader's time per page (``bench/extraction_benchmarks.py``).
"""

from __future__ import annotations

import re

from html_to_markdown import ConversionOptions, PreprocessingOptions, convert
from lxml import etree

_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")
_VERBATIM = frozenset({"pre", "code", "textarea"})

_OPTIONS = ConversionOptions(
    heading_style="atx",
    bullets="-",
    # The readers have chosen what to keep already: the converter removes nothing of its own.
    preprocessing=PreprocessingOptions(enabled=False),
    extract_metadata=False,
    autolinks=False,
    hidden_content="drop",
    compact_tables=True,  # no padding: spaces that align columns cost a model tokens
)


def element_markdown(element: etree._Element) -> str:
    """Markdown of an element (whitespace already folded, see ``collapse_whitespace``); links
    left without text or image (their image dropped as chrome) are removed from it first: they
    say nothing to a reader, and the converter would give each a line of its own."""
    for link in list(element.iter("a")):
        text = etree.tostring(link, method="text", encoding="unicode", with_tail=False)
        if link is not element and not text.strip() and link.find(".//img") is None:
            _remove_keeping_tail(link)
    markdown = convert(etree.tostring(element, encoding="unicode", method="html"), _OPTIONS).content or ""
    lines = [line.rstrip() for line in markdown.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def collapse_whitespace(root: etree._Element) -> None:
    """Fold source line breaks inside text so paragraphs come out as single lines; what sits in
    ``<pre>``, ``<code>`` and ``<textarea>`` keeps its spacing (the text after them does not)."""
    pending = [root]
    while pending:  # one walk that skips verbatim subtrees whole
        element = pending.pop()
        if element.text:
            element.text = _SPACES.sub(" ", element.text)
        for child in element:
            if child.tail:
                child.tail = _SPACES.sub(" ", child.tail)
            if child.tag not in _VERBATIM:
                pending.append(child)


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
