"""HTML to markdown, one way for every reader path: whitespace folded as a browser shows it,
then markdownify with ATX headings, ``-`` bullets and GitHub tables."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from markdownify import markdownify

_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")


def element_markdown(element: lxml.html.HtmlElement) -> str:
    """Markdown of an element (whitespace already folded, see ``collapse_whitespace``)."""
    markdown = markdownify(
        etree.tostring(element, encoding="unicode", method="html"),
        heading_style="ATX",
        bullets="-",
        table_infer_header=True,
    )
    lines = [line.rstrip() for line in markdown.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def collapse_whitespace(root: lxml.html.HtmlElement) -> None:
    """Fold source line breaks inside text so paragraphs come out as single lines."""
    for element in root.iter():
        if element.tag in ("pre", "code", "textarea") or _inside_pre(element):
            continue
        if element.text:
            element.text = _SPACES.sub(" ", element.text)
        if element.tail and not _inside_pre(element.getparent()):
            element.tail = _SPACES.sub(" ", element.tail)


def _inside_pre(element: lxml.html.HtmlElement | None) -> bool:
    return element is not None and any(a.tag == "pre" for a in element.iterancestors())
