"""The browser: where it comes from, one task's context and page, and the network it may reach.

``chromium`` launches or connects to browsers (``pool`` when they live elsewhere, several of them;
``spare`` a context opened ahead for the first session; ``opening`` closes a context made for a
caller cancelled meanwhile); ``session`` is one task's isolated context
and page with the actions the API exposes. Every request a page makes passes ``proxy``, the choke
point that enforces ``url_policy`` (``guard`` checks the hops Playwright sees); ``loggable`` says
what logs may print of an address a page chose.

Imports from the rest of the server: only the shared modules (``errors``, ``jsonsafe``).
"""
