"""The live view: a page where a person watches, and when asked uses, a session's browser.

``view`` serves the page (``assets/``: its template, style and script) and its routes;
``websocket`` streams the pictures (``frames``) and state to it and carries a person's clicks and
keys back (``inputs``).

Imports from the rest of the server: ``tasks``, ``browser``, ``files`` and the shared modules.
"""
