"""Every exception the client raises, in one tree.

``SmoothError``
 ├─ ``APIError`` (the service answered with an error status; ``status_code``, ``detail``)
 │   ├─ ``BadRequestError`` 400 · ``AuthenticationError`` 401 · ``PermissionDeniedError`` 403
 │   ├─ ``NotFoundError`` 404 · ``ConflictError`` 409 · ``UnprocessableEntityError`` 422
 │   ├─ ``RateLimitError`` 429 · ``InternalServerError`` 5xx
 ├─ ``APIConnectionError`` (no answer: refused, reset, DNS) └─ ``APITimeoutError``
 ├─ ``ActionError`` (a session action failed remotely, e.g. the JS threw; code 400)
 ├─ ``SessionClosedError`` (an action on a session that is closed or expired)
 ├─ ``TaskFailedError`` (a task ended ``failed`` or ``cancelled`` when a result was awaited)
 └─ ``ToolError`` (a custom tool failed; raise it in a tool to answer code 400 on purpose)

Messages say what to do next and never contain the API key.
"""

from __future__ import annotations

from typing import Any


class SmoothError(Exception):
    """Base of everything this package raises."""


class APIError(SmoothError):
    status_code: int = 0
    # True when an earlier attempt of the same request may have reached the service (reset after
    # sending, or a 5xx) before this answer: a 404 to a resent DELETE may then be its own doing.
    resent: bool = False

    def __init__(
        self, detail: Any, *, status_code: int | None = None, method: str = "", path: str = ""
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail
        self.method = method
        self.path = path
        where = f" on {method} {path}" if method else ""
        super().__init__(f"Smooth API error {self.status_code}{where}: {_detail_text(detail)}{self._hint()}")

    def _hint(self) -> str:
        return ""


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []))
                parts.append(f"{loc}: {item.get('msg', item)}" if loc else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


class BadRequestError(APIError):
    status_code = 400


class AuthenticationError(APIError):
    status_code = 401

    def _hint(self) -> str:
        return " (check SMOOTH_API_KEY, or unset it to use the embedded local server)"


class PermissionDeniedError(APIError):
    status_code = 403


class NotFoundError(APIError):
    status_code = 404


class ConflictError(APIError):
    status_code = 409


class UnprocessableEntityError(APIError):
    status_code = 422


class RateLimitError(APIError):
    status_code = 429

    def _hint(self) -> str:
        return " (too many requests, credits exhausted or too many open sessions: close one or retry later)"


class InternalServerError(APIError):
    status_code = 500


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for_status(status_code: int, detail: Any, method: str, path: str) -> APIError:
    cls = STATUS_ERRORS.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIError
    return cls(detail, status_code=status_code, method=method, path=path)


class APIConnectionError(SmoothError):
    """The request got no answer (connection refused or reset, name not resolved)."""


class APITimeoutError(APIConnectionError):
    """The request took longer than its timeout."""


class ActionError(SmoothError):
    """A session action failed on the remote side (code 400): the message says why."""

    def __init__(self, action: str, message: str) -> None:
        self.action = action
        self.remote_message = message
        super().__init__(f"{action} failed: {message}")


class SessionClosedError(SmoothError):
    """The session is closed or expired; open a new one."""


class TaskFailedError(SmoothError):
    """The task ended without a result (``failed`` or ``cancelled``)."""

    def __init__(self, task_id: str, status: str, output: Any) -> None:
        self.task_id = task_id
        self.status = status
        self.output = output
        super().__init__(f"Task {task_id} ended {status}: {output}")


class ToolError(SmoothError):
    """Raised by a custom tool to report a failure the agent may work around (code 400)."""


__all__ = [
    "STATUS_ERRORS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ActionError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SessionClosedError",
    "SmoothError",
    "TaskFailedError",
    "ToolError",
    "UnprocessableEntityError",
    "error_for_status",
]
