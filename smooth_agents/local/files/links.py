"""Links a person opens without the API key (the live view, a task's files): each carries a
per-task token in its query, checked here in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection


def task_of_link(request: HTTPConnection, token_of: Callable[[Any], str | None]) -> Any | None:
    """The task a link names (``task_id`` in its path), when its ``token`` is that task's
    ``token_of(task)``; None otherwise (unknown task, no token for it, or a wrong one). The
    request may be a page's or a WebSocket's."""
    task = request.app.state.runtime.tasks.get(request.path_params["task_id"])
    expected = token_of(task) if task is not None else None
    given = request.query_params.get("token", "")
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return task
