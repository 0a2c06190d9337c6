"""Tasks and sessions, and the engine that runs them.

``task`` is the state of one task or session (status, output, its event log); ``events`` checks a
client's events and queues them or hands them to the agent waiting on them; ``runtime`` is the
engine behind the routes: it starts tasks and sessions on their browsers, runs their agents,
enforces the limits and shuts everything down.

Imports from the rest of the server: ``agents``, ``browser``, ``files``, ``extraction`` and the
shared modules; nothing of HTTP.
"""
