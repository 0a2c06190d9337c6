"""Errors the local server answers with, as ``{"detail": ...}`` and a status code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client; ``detail`` is what the client reads."""

    status_code = 400

    def __init__(self, detail: Any, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code


class BadRequest(ApiError):
    status_code = 400


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class ValidationFailed(ApiError):
    status_code = 422


class PayloadTooLarge(ApiError):
    status_code = 413


class TooManyRequests(ApiError):
    status_code = 429


class ActionFailed(Exception):
    """A browser or session action failed in a way the caller can fix (answered as code 400)."""


class PageMovedOn(ActionFailed):
    """The page's own script or refresh moved it on to an address that did not load."""
