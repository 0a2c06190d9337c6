"""The main content of a page (the article, the post, the documentation page) as markdown.

Two well-kept extractors, so that no article is lost to one of them: trafilatura (Apache-2.0)
finds the text, tuned for precision and without comments; readability-lxml (Apache-2.0) gives a
second opinion, and its reading is taken when trafilatura keeps less than half of its words. Both
come back as HTML and are rendered to markdown as every other reader path is (``html_markdown``).
Measured on the development half of the scrapinghub article benchmark
(``bench/extraction_benchmarks.py``): trafilatura alone, with these options, F1 0.960 with one
page under recall 0.5; with the second opinion 0.962 and none.
"""

from __future__ import annotations

import logging
import re

import lxml.html

from .html_markdown import collapse_whitespace, element_markdown

log = logging.getLogger("smooth_agents.local.readable")

# Below this share of the second opinion's words, trafilatura is taken to have lost the article.
SECOND_OPINION_SHARE = 0.5
# Keeping at least this share of the page's words (chrome removed), trafilatura needs no second
# opinion.
SECOND_OPINION_GATE = 0.6

_WORD = re.compile(r"\w+")
# Markdown syntax that is not words: link targets and images, so that counts compare text.
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")


def main_content_markdown(html: str, url: str | None = None, *, page_words: int | None = None) -> str | None:
    """Markdown of the page's main content (links absolute when ``url`` is given), or None when
    neither extractor finds any.

    ``page_words``, the words of the page without its chrome, spares the second opinion when
    trafilatura keeps most of them (it can only have lost an article when it kept little).
    """
    first = _trafilatura(html, url)
    kept = words(first or "")
    if first is not None and page_words is not None and kept >= SECOND_OPINION_GATE * page_words:
        return first
    second = _readability(html, url)
    if second is not None and kept < SECOND_OPINION_SHARE * words(second):
        log.debug("trafilatura kept %d words, readability %d: readability's taken", kept, words(second))
        return second
    return first or second


def words(markdown: str) -> int:
    """How many words a markdown text holds (link targets and images not counted)."""
    return len(_WORD.findall(_LINK_TARGET.sub("]", _IMAGE.sub("", markdown))))


def _trafilatura(html: str, url: str | None) -> str | None:
    import trafilatura  # imported on first use: it takes a while, and only reading needs it

    found = trafilatura.extract(
        html,
        url=url,
        output_format="html",  # rendered to markdown here, as every other reader path is
        favor_precision=True,
        include_comments=False,
        include_links=True,
        include_tables=True,
        include_formatting=True,
        include_images=False,  # figures bring their captions and credits, which are not the text
    )
    return _markdown(lxml.html.document_fromstring(found), None) if found else None


def _readability(html: str, url: str | None) -> str | None:
    from readability import Document

    try:
        summary = Document(html, url=url).summary(html_partial=True)
    except Exception as exc:  # readability raises its own errors on pages it cannot read
        log.debug("readability found nothing: %s", exc)
        return None
    return _markdown(lxml.html.fragment_fromstring(summary, create_parent="div"), url)


def _markdown(root: lxml.html.HtmlElement, url: str | None) -> str | None:
    if url:
        root.make_links_absolute(url, handle_failures="ignore")
    collapse_whitespace(root)
    body = root.find("body")
    return element_markdown(body if body is not None else root) or None
