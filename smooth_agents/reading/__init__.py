"""Reading a page as markdown without a model ("the reader"): its main content, or all of it.

A core package the local server and the client's crawl share: it imports nothing else of
``smooth_agents``. Its libraries (lxml, trafilatura, html-to-markdown) come with the ``local``
extra; ``reader_missing()`` tells a caller, without importing them, whether they are installed.
"""

from __future__ import annotations

from importlib.util import find_spec

READER_MODULES = ("lxml", "trafilatura", "html_to_markdown")
INSTALL_HINT = "pip install 'smooth-agents[local]'"


def reader_missing() -> list[str]:
    """The reader's libraries that are not installed (empty when it can run)."""
    return [name for name in READER_MODULES if find_spec(name) is None]
