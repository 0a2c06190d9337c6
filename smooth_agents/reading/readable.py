"""Readable markdown of a page, without an LLM: its main content by default, or all of it.

The article itself comes from ``main_content`` (trafilatura, readability as a second opinion).
lxml strips what is never shown and the page chrome (navigation, footers, sidebars, ads, form
controls) and finds the region a page marks as its main one; html_markdown converts that region for
catalogue pages and when the article extractors miss most of it, and converts the whole page in
``main_content_only=False`` mode. ``bench/extraction_benchmarks.py`` measures it on real pages.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from .html_markdown import collapse_whitespace, element_markdown
from .main_content import main_content_markdown, words

__all__ = ["clean_html", "page_to_markdown"]

# Below this share of the words of a region the page marks as its main one (<main>, one
# <article>), the article extractors are taken to have missed content, and the region is read.
REGION_SHARE = 0.5
# A form with fewer words than this is chrome; with more, it holds content.
FORM_WORDS = 100

# Tags that never carry readable content, or only carry chrome.
_NOISE_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "button",
    "input",
    "select",
    "textarea",
    "nav",
    "footer",
    "aside",
    "dialog",
    "img",
    "picture",
    "video",
    "audio",
    "link",
    "meta",
)
# Never shown on the page, in either mode.
_NEVER_SHOWN = {"script", "style", "noscript", "template", "link", "meta"}
# A catalogue page (a product, a list of items) is read as its marked region, not as an article.
_CATALOGUE = re.compile(r"schema\.org/(?:Product|ItemList|Offer)\b|\"@type\"\s*:\s*\"(?:Product|ItemList)\"")
_NOISE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
# Whole-token matches in class/id: "ad" must not match "header" or "download".
_NOISE_TOKENS = {
    "ad",
    "ads",
    "advert",
    "advertisement",
    "sponsor",
    "sponsored",
    "promo",
    "cookie",
    "cookies",
    "consent",
    "banner",
    "newsletter",
    "subscribe",
    "sidebar",
    "breadcrumb",
    "breadcrumbs",
    "share",
    "social",
    "related",
    "trending",
    "popup",
    "modal",
    "skip",
    "comments",
    "pagination",
    "pager",
}
_TOKEN_SPLIT = re.compile(r"[\s_-]+")


def page_to_markdown(html: str, url: str | None = None, *, main_content_only: bool = True) -> str:
    """Markdown of a page.

    By default only the main content: the article as trafilatura and readability find it
    (``main_content``), as they find it (its headline when they count it part of the article,
    never the site's name), unless the page is a catalogue (a product, a list of items), or marks
    its main region itself and the article extractors keep less than half of that region, which
    then is the content (the article extractors drop link-heavy cards and short facts such as a
    rating). With ``main_content_only=False``, everything visible on the page, chrome included.
    A region or the whole page comes with the page's title as a ``# `` heading first.
    """
    if not html.strip():
        return ""
    if main_content_only and not _CATALOGUE.search(html):
        main = _article(html, url)
        if main is not None:
            return main + "\n"
    root = clean_html(html, url, drop_chrome=main_content_only)
    title = _take_title(root)
    region = _content_root(root) if main_content_only else _body(root)
    text = element_markdown(region)
    if title:
        text = f"# {title}\n\n{text}" if text else f"# {title}"
    return text + "\n" if text else ""


def _article(html: str, url: str | None) -> str | None:
    """The main content as the article extractors find it, or None when they find none or keep
    less than ``REGION_SHARE`` of the region the page marks as its main one."""
    tree = lxml.html.document_fromstring(html)
    region = _content_root(tree)
    marked = region if region.tag != "body" else None
    region_words = _visible_words(region) if marked is not None else 0
    main = main_content_markdown(html, url, tree=tree)  # done with the tree: the reading uses it up
    if main is None or (marked is not None and words(main) < REGION_SHARE * region_words):
        return None
    return main


_NOT_CONTENT = frozenset({"script", "style", "noscript", "nav", "aside", "footer", "form", "button"})


def _visible_words(element: lxml.html.HtmlElement) -> int:
    """Words of an element's text, without what is never shown and without the common chrome."""
    # One walk that skips those subtrees whole (an XPath test of every text's ancestors cost
    # several milliseconds a page).
    count = 0
    pending = [element]
    while pending:
        node = pending.pop()
        if node.text:
            count += len(node.text.split())
        for child in node:
            if child.tail:
                count += len(child.tail.split())
            # Comments and processing instructions have a tail but no shown text.
            if isinstance(child.tag, str) and child.tag not in _NOT_CONTENT:
                pending.append(child)
    return count


def clean_html(html: str, url: str | None = None, *, drop_chrome: bool = True) -> lxml.html.HtmlElement:
    """Parse ``html`` and remove what is not content: what is never shown (scripts, styles,
    hidden elements) and, with ``drop_chrome``, the page chrome (navigation, footers, sidebars,
    ads, forms' controls)."""
    root = lxml.html.document_fromstring(html)
    assert isinstance(root, lxml.html.HtmlElement)  # the HTML parser builds nothing else at the root
    if url:
        # Links that survive should be usable outside the page.
        root.make_links_absolute(url, resolve_base_href=True, handle_failures="ignore")
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    # A wrapper whose class names a noise word can still hold the whole page ("one-sidebar" on
    # <body>, "l-sidebar-fixed l-article-body" around an article): what holds the main content is
    # never dropped for its class.
    keep = {id(e) for e in root.iter("main", "article") for e in (e, *e.iterancestors())}
    for element in list(root.iter()):
        if (
            isinstance(element, lxml.html.HtmlElement)
            and element.getparent() is not None
            and id(element) not in keep
            and _is_noise(element, drop_chrome)
        ):
            element.drop_tree()
    collapse_whitespace(root)
    return root


def _is_noise(element: lxml.html.HtmlElement, chrome: bool = True) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _NEVER_SHOWN or (element.get("aria-hidden") == "true" or element.get("hidden") is not None):
        return True
    if not chrome or tag == "body":
        return False
    if tag in _NOISE_TAGS:
        return True
    # A form is chrome (search, newsletter, add to cart) unless it holds the page's text, as a
    # page built inside one <form> does.
    if tag == "form":
        return len(element.text_content().split()) < FORM_WORDS
    # A page-level header is chrome; a header inside an article holds its title and byline.
    if tag == "header" and element.getparent() is not None and element.getparent().tag == "body":
        return True
    if element.get("role", "").lower() in _NOISE_ROLES:
        return True
    tokens = {
        *_TOKEN_SPLIT.split(element.get("class", "").lower()),
        *_TOKEN_SPLIT.split(element.get("id", "").lower()),
    }
    return not tokens.isdisjoint(_NOISE_TOKENS)


def _content_root(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element holding the main content: ``<main>``, a single ``<article>``, or ``<body>``."""
    for query in ("//main", "//*[@role='main']"):
        found = root.xpath(query)
        if len(found) == 1:
            article = _single_article(found[0])
            return article if article is not None else found[0]
    article = _single_article(root)
    return article if article is not None else _body(root)


def _single_article(scope: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    articles = scope.xpath(".//article")
    # An empty <article> (a placeholder filled by script) is no content root.
    return articles[0] if len(articles) == 1 and articles[0].text_content().strip() else None


def _body(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    body = root.find("body")
    return body if body is not None else root


def _take_title(root: lxml.html.HtmlElement) -> str:
    """The page title, removing the content's h1 so it is not repeated under the title."""
    content = _content_root(root)
    headings = content.xpath(".//h1") or root.xpath("//h1")
    if headings:
        title = _squash(headings[0].text_content())
        if title:
            headings[0].drop_tree()
            return title
    for query in ("//meta[@property='og:title']/@content", "//title/text()"):
        values = root.xpath(query)
        if values and _squash(str(values[0])):
            return _squash(str(values[0]))
    return ""


def _squash(text: str) -> str:
    return " ".join(text.split())
