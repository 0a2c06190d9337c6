"""Readable markdown of a page's main content, without an LLM.

lxml strips the page chrome (scripts, navigation, footers, sidebars, ads, forms) and picks
the main-content root; markdownify converts what is left. ``bench/readable_quality.py``
records why this pairing was chosen over html2text and trafilatura.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from markdownify import markdownify

__all__ = ["clean_html", "page_to_markdown"]

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
    "form",
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
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"\s+")


def page_to_markdown(html: str, url: str | None = None) -> str:
    """Markdown of the page's main content, its title as a ``# `` heading first."""
    if not html.strip():
        return ""
    root = clean_html(html, url)
    title = _take_title(root)
    body = markdownify(
        etree.tostring(_content_root(root), encoding="unicode", method="html"),
        heading_style="ATX",
        bullets="-",
        table_infer_header=True,
    )
    text = _tidy(body)
    if title:
        text = f"# {title}\n\n{text}" if text else f"# {title}"
    return text + "\n" if text else ""


def clean_html(html: str, url: str | None = None) -> lxml.html.HtmlElement:
    """Parse ``html`` and remove everything that is page chrome rather than content."""
    root = lxml.html.document_fromstring(html)
    assert isinstance(root, lxml.html.HtmlElement)  # the HTML parser builds nothing else at the root
    if url:
        # Links that survive should be usable outside the page.
        root.make_links_absolute(url, resolve_base_href=True, handle_failures="ignore")
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for element in list(root.iter()):
        if (
            isinstance(element, lxml.html.HtmlElement)
            and element.getparent() is not None
            and _is_noise(element)
        ):
            element.drop_tree()
    _collapse_whitespace(root)
    return root


def _collapse_whitespace(root: lxml.html.HtmlElement) -> None:
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


def _is_noise(element: lxml.html.HtmlElement) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _NOISE_TAGS:
        return True
    # A page-level header is chrome; a header inside an article holds its title and byline.
    if tag == "header" and element.getparent() is not None and element.getparent().tag == "body":
        return True
    if element.get("role", "").lower() in _NOISE_ROLES:
        return True
    if element.get("aria-hidden") == "true" or element.get("hidden") is not None:
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
    return articles[0] if len(articles) == 1 else None


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


def _tidy(markdown: str) -> str:
    lines = [line.rstrip() for line in markdown.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
