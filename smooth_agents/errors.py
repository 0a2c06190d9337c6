"""Every exception the package raises, in one module.

``SmoothError``
 ├─ ``APIError`` (the service answered with an error status; ``status_code``, ``detail``,
 │   │            ``headers``, ``request_id``)
 │   ├─ ``BadRequestError`` 400 · ``AuthenticationError`` 401 · ``PermissionDeniedError`` 403
 │   ├─ ``NotFoundError`` 404 · ``ConflictError`` 409 · ``UnprocessableEntityError`` 422
 │   ├─ ``RateLimitError`` 429 (``retry_after``) · ``InternalServerError`` 5xx
 ├─ ``APIConnectionError`` (no answer: refused, reset, DNS) └─ ``APITimeoutError``
 ├─ ``ActionError`` (a session action failed remotely, e.g. the JS threw; code 400)
 │   └─ ``HandOverUnsupportedError`` (the server has no ``hand_over`` action: the Smooth cloud)
 ├─ ``SessionClosedError`` (an action on a session that is closed or expired)
 ├─ ``TaskFailedError`` (a task ended ``failed`` or ``cancelled`` when a result was awaited)
 ├─ ``TaskTimeoutError`` (also a ``TimeoutError``: ``result(timeout=...)`` ran out)
 └─ ``ToolError`` (a custom tool failed; raise it in a tool to answer code 400 on purpose)

``ToolFailure`` stands apart: what an agent-facing tool (``smooth_agents.agent_tools``) reports
to the model that called it, its message saying what to do next; the adapters turn it into an MCP
error result or a LangChain tool error.

Messages say what to do next and never contain the API key (only response headers are kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .retry import parse_retry_after  # a pure module: it imports nothing of the package

# Response headers that carry the service's id of a request, first found wins.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")


class SmoothError(Exception):
    """Base of everything this package raises."""


class APIError(SmoothError):
    status_code: int = 0
    # True when an earlier attempt of the same request may have reached the service (reset after
    # sending, or a 5xx) before this answer: a 404 to a resent DELETE may then be its own doing.
    resent: bool = False

    def __init__(
        self,
        detail: Any,
        *,
        status_code: int | None = None,
        method: str = "",
        path: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail
        self.method = method
        self.path = path
        # The answer's headers, names lowercased (a support request quotes ``request_id``).
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.request_id: str | None = next(
            (self.headers[name] for name in REQUEST_ID_HEADERS if name in self.headers), None
        )
        where = f" on {method} {path}" if method else ""
        request = f" (request id {self.request_id})" if self.request_id else ""
        super().__init__(
            f"Smooth API error {self.status_code}{where}: {_detail_text(detail)}{self._hint()}{request}"
        )

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

    @property
    def retry_after(self) -> float | None:
        """Seconds the service asked to wait before retrying (``Retry-After``), when it said."""
        return parse_retry_after(self.headers)

    def _hint(self) -> str:
        wait = self.retry_after
        when = f"retry in {wait:g} s" if wait is not None else "retry later"
        return f" (too many requests, credits exhausted or too many open sessions: close one or {when})"


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


def error_for_status(
    status_code: int, detail: Any, method: str, path: str, headers: Mapping[str, str] | None = None
) -> APIError:
    cls = STATUS_ERRORS.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIError
    return cls(detail, status_code=status_code, method=method, path=path, headers=headers)


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


class HandOverUnsupportedError(ActionError):
    """The server answered the ``hand_over`` action with an error: it cannot hand its browser to a
    person and tell when they are done (the Smooth cloud; its ``live_url`` with
    ``interactive=true`` still lets a person use the page)."""


class SessionClosedError(SmoothError):
    """The session is closed or expired; open a new one."""


class TaskFailedError(SmoothError):
    """The task ended without a result (``failed`` or ``cancelled``)."""

    def __init__(self, task_id: str, status: str, output: Any) -> None:
        self.task_id = task_id
        self.status = status
        self.output = output
        super().__init__(f"Task {task_id} ended {status}: {output}")


class TaskTimeoutError(SmoothError, TimeoutError):
    """``result(timeout=...)`` ran out; the task goes on remotely (fetch it later or cancel it)."""


class ToolError(SmoothError):
    """Raised by a custom tool to report a failure the agent may work around (code 400)."""


class ToolFailure(Exception):
    """An agent-facing tool could not do what was asked; the message tells the model what to do
    next. Not a ``SmoothError``: the tools raise it, the adapters show it to the model."""


__all__ = [
    "REQUEST_ID_HEADERS",
    "STATUS_ERRORS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ActionError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "HandOverUnsupportedError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SessionClosedError",
    "SmoothError",
    "TaskFailedError",
    "TaskTimeoutError",
    "ToolError",
    "ToolFailure",
    "UnprocessableEntityError",
    "error_for_status",
]
