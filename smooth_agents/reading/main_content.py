"""The main content of a page (the article, the post, the documentation page) as markdown.

Two readings, so that no article is lost to one of them: trafilatura (Apache-2.0) finds the
text, tuned for precision, without comments and in its fast mode (without its own fallbacks);
the readability algorithm (the copy trafilatura ships) gives a second opinion, which is taken
when trafilatura keeps less than half of its words. Both come back as HTML, are compared by their
words, and only the one taken is rendered to markdown, as every other reader path is
(``html_markdown``). Measured on the development half of the scrapinghub article benchmark
(``bench/extraction_benchmarks.py``): F1 0.965, no page under recall 0.5, and a median time per
page just under trafilatura's default extraction (0.98x, the systems taking turns page by page).
"""

from __future__ import annotations

import copy
import logging
import re

import lxml.html
from lxml import etree

from .html_markdown import collapse_whitespace, element_markdown

log = logging.getLogger("smooth_agents.reading")

# Below this share of the second opinion's words, trafilatura is taken to have lost the article.
SECOND_OPINION_SHARE = 0.5
# Keeping at least this share of the words the page shows, in text that is mostly not links,
# trafilatura needs no second opinion (it can only have lost an article when it kept little, or
# taken a list of links for one).
SECOND_OPINION_GATE = 0.6
LINK_SHARE = 0.3

_NOT_SHOWN = ("script", "style", "noscript", "template")
_CHROME = ("nav", "aside", "footer")

_WORD = re.compile(r"\w+")
# Markdown syntax that is not words: link targets and images, so that counts compare text.
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


def main_content_markdown(
    html: str, url: str | None = None, *, tree: lxml.html.HtmlElement | None = None
) -> str | None:
    """Markdown of the page's main content (links absolute when ``url`` is given), or None when
    neither reading finds any. ``tree``, the page already parsed, is read and changed here (its
    scripts go; the second opinion prunes it), so the caller must be done with it."""
    tree = tree if tree is not None else lxml.html.document_fromstring(html)
    first = _trafilatura(copy.deepcopy(tree), url)
    if (
        first is not None
        and _words_of(first) >= SECOND_OPINION_GATE * _page_words(tree)
        and _link_share(first) < LINK_SHARE
    ):
        return _markdown(first, url)
    second = _readability(tree)
    first_markdown = _markdown(first, url) if first is not None else None
    second_markdown = _markdown(second, url) if second is not None else None
    kept = words(first_markdown or "")
    if second_markdown is not None and kept < SECOND_OPINION_SHARE * words(second_markdown):
        log.debug("trafilatura kept %d words, readability more than twice as many: theirs taken", kept)
        return second_markdown
    return first_markdown or second_markdown


def words(markdown: str) -> int:
    """How many words a markdown text holds (link targets and images not counted)."""
    return len(_WORD.findall(_LINK_TARGET.sub("]", _IMAGE.sub("", markdown))))


def _page_words(tree: lxml.html.HtmlElement) -> int:
    """Words the page shows outside its navigation, sidebars and footers, counted on ``tree``
    once those and its scripts are gone (the second opinion has no use for them either)."""
    etree.strip_elements(tree, *_NOT_SHOWN, *_CHROME, with_tail=False)
    body = tree.find("body")
    return _words_of(body if body is not None else tree)


def _link_share(element: etree._Element) -> float:
    """The share of the words that sit in links: a list of links is not an article."""
    in_links = sum(_words_of(link) for link in element.iter("a"))
    return in_links / max(_words_of(element), 1)


def _words_of(element: etree._Element | None) -> int:
    if element is None:
        return 0
    return len(_WORD.findall(etree.tostring(element, method="text", encoding="unicode")))


def _trafilatura(page: lxml.html.HtmlElement, url: str | None) -> etree._Element | None:
    """The text trafilatura finds, as the simple HTML its ``extract(output_format="html")`` gives,
    without a round trip through a string: its public ``bare_extraction`` and the converter its
    HTML output uses, which skips what ``extract`` adds for serialized formats (a content
    fingerprint) and our parsing its string again (3-4 ms of 18 a page)."""
    import trafilatura  # imported on first use: it takes a while, and only reading needs it
    from trafilatura.htmlprocessing import convert_to_html

    found = trafilatura.bare_extraction(
        page,  # a copy of the parsed page (it changes the tree): copying is faster than parsing
        url=url,  # links made absolute against it
        output_format="html",
        favor_precision=True,
        fast=True,  # its own fallbacks: the second opinion here does that job, once
        include_comments=False,
        include_links=True,
        include_tables=True,
        include_formatting=True,
        include_images=False,  # figures bring their captions and credits, which are not the text
        as_dict=False,
    )
    body = getattr(found, "body", None)
    if body is None or not len(body):
        return None
    return convert_to_html(body).find("body")


def _readability(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    # trafilatura's own copy of readability, public in its ``external`` module since 2.0: it
    # works on the parsed tree, where the readability-lxml package parses and cleans the page
    # again (about five times slower here, for the same readings on the benchmark).
    from trafilatura.external import try_readability

    summary = try_readability(tree)
    return summary if summary is not None and len(summary) else None


def _markdown(root: etree._Element, url: str | None) -> str | None:
    if url and isinstance(root, lxml.html.HtmlElement):  # trafilatura's links are absolute already
        root.make_links_absolute(url, handle_failures="ignore")
    collapse_whitespace(root)
    return element_markdown(root) or None
