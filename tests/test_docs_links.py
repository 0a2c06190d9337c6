"""Every relative link in the README and the docs leads somewhere: to a file or folder of the
repository, and to a heading of that page when it names one (GitHub's anchors: the heading in
lower case, punctuation dropped, spaces as hyphens, repeats numbered)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target), the target up to a space or the closing parenthesis; code spans are skipped.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``page``."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_the_pages_are_there() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "mcp.md", "langchain.md", "client.md", "local-server.md", "scaling.md"} <= names
    assert len(links(ROOT / "README.md")) >= 7  # the README leads to every page


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    for target in links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        assert destination.exists(), f"{page.relative_to(ROOT)} links to {target}: no such file"
        assert ROOT in destination.parents or destination == ROOT, f"{target} leaves the repository"
        if anchor and destination.suffix == ".md":
            assert anchor in anchors(destination), (
                f"{page.relative_to(ROOT)} links to {target}: no such heading"
            )


def test_the_anchor_rule_reads_headings_as_github_does(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# A person in the loop\n## `read_more`, and more!\n## Tools\n## Tools\n", encoding="utf-8"
    )
    assert anchors(page) == {"a-person-in-the-loop", "read_more-and-more", "tools", "tools-1"}
