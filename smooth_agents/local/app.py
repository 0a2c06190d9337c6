"""The HTTP surface: the Smooth REST API under ``/api/v1`` plus the live view.

Every success is ``{"r": ...}``; every error is ``{"detail": ...}``. Requests must name this
server in their Host header (DNS-rebinding guard) and API routes need the ``apikey`` header.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..protocol import LONG_POLL_HEADER
from .agents.seam import AgentSelector
from .errors import ApiError, BadRequest, NotFound, PayloadTooLarge
from .files import task_files
from .files.task_files import ARCHIVE_NAME, RECORDING_NAME, file_url
from .jsonsafe import json_safe
from .live import view as live
from .schemas import BrowserSessionRequest, ProfileRequest, TaskRequest, parse_body
from .settings import LocalServerSettings
from .tasks.runtime import LocalRuntime
from .tasks.task import Task

log = logging.getLogger("smooth_agents.local")
API_PREFIX = "/api/v1"
DEMO_SITE = Path(__file__).parent / "demo_site"
MAX_LONG_POLL_MS = 20_000


def ok(value: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"r": value}, status_code=status_code)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise BadRequest("The request body is empty; send a JSON object.")
    try:
        return json_safe(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise BadRequest("The request body is nested too deeply.") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise BadRequest(f"The request body holds a value out of range: {exc}.") from None


def runtime_of(request: Request) -> LocalRuntime:
    runtime: LocalRuntime = request.app.state.runtime
    return runtime


def live_url_for(request: Request, task_id: str, token: str) -> str:
    settings: LocalServerSettings = request.app.state.runtime.settings
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/live/{task_id}?token={token}"


def _file_links(request: Request, task: Task) -> tuple[str | None, str | None]:
    """The task's downloads and recording links: None while it runs (and while its files are
    being finished), "" when it has none (what the official SDK reads as "not available")."""
    files = task.files
    if task.active or (files is not None and not files.ready):
        return None, None
    if files is None:
        return "", ""
    settings: LocalServerSettings = request.app.state.runtime.settings
    base = settings.public_url or str(request.base_url)
    downloads = file_url(base, task.id, files, ARCHIVE_NAME) if files.has_archive else ""
    recording = file_url(base, task.id, files, RECORDING_NAME) if files.has_recording else ""
    return downloads, recording


def _task_json(request: Request, task: Task, event_t: int | None) -> dict[str, Any]:
    downloads, recording = _file_links(request, task)
    # As the service does, downloads_url is given when asked for (?downloads=true).
    asked = request.query_params.get("downloads", "").lower() == "true"
    return dict(
        task.as_json(
            live_url=live_url_for(request, task.id, task.live_token),
            event_t=event_t,
            downloads_url=downloads if asked else None,
            recording_url=recording,
        )
    )


def _int_query(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(float(raw))
    except (ValueError, OverflowError):  # not a number, NaN, or an infinity
        raise BadRequest(f"Query parameter {name!r} must be a finite number, got {raw!r}.") from None


# -- tasks ---------------------------------------------------------------------------------
async def submit_task(request: Request) -> Response:
    runtime = runtime_of(request)
    task_request: TaskRequest = runtime.parse_task_request(await json_body(request))
    task = await runtime.submit(task_request)
    return ok(_task_json(request, task, None))


async def list_tasks(request: Request) -> Response:
    runtime = runtime_of(request)
    tasks = runtime.list_tasks(_int_query(request, "t"), _int_query(request, "l"))
    return ok([{k: v for k, v in _task_json(request, t, None).items() if k != "events"} for t in tasks])


async def get_task(request: Request) -> Response:
    task = runtime_of(request).get(request.path_params["task_id"])
    event_t = _int_query(request, "event_t")
    wait_ms = _int_query(request, "wait_ms")
    if wait_ms:
        # Long poll (an extension of this server): hold the answer until there is news.
        known_status = request.query_params.get("known_status") or None
        await task.wait_for_news(event_t, min(wait_ms, MAX_LONG_POLL_MS) / 1000, known_status)
    body = _task_json(request, task, event_t)
    task.note_delivered(body["events"])
    response = ok(body, status_code=202 if task.active else 200)
    response.headers[LONG_POLL_HEADER] = str(MAX_LONG_POLL_MS)
    return response


async def cancel_task(request: Request) -> Response:
    await runtime_of(request).cancel(request.path_params["task_id"])
    return ok(True)


async def send_event(request: Request) -> Response:
    body = await json_body(request)
    event_id = runtime_of(request).post_event(request.path_params["task_id"], body)
    return ok({"id": event_id})


# -- profiles ------------------------------------------------------------------------------
async def create_profile(request: Request) -> Response:
    raw = await request.body()
    body = await json_body(request) if raw.strip() else {}
    profile = parse_body(ProfileRequest, body)
    return ok({"id": runtime_of(request).storage.create_profile(profile.id)})


async def list_profiles(request: Request) -> Response:
    return ok([{"id": p} for p in runtime_of(request).storage.list_profiles()])


async def delete_profile(request: Request) -> Response:
    runtime_of(request).storage.delete_profile(request.path_params["profile_id"])
    return ok(True)


# -- files and extensions ------------------------------------------------------------------
async def _uploaded(request: Request, purpose_field: bool) -> tuple[str | None, bytes, str | None]:
    """The uploaded file's name, bytes and purpose; the form's temporary files are closed."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise BadRequest("Send the file as multipart/form-data with a field named 'file'.")
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("The form has no file in a field named 'file'.")
        purpose = form.get("file_purpose") if purpose_field else None
        return upload.filename, await upload.read(), purpose if isinstance(purpose, str) else None


async def upload_file(request: Request) -> Response:
    name, content, purpose = await _uploaded(request, purpose_field=True)
    stored = runtime_of(request).storage.save_file(name, content, purpose)
    return ok({"id": stored.id})


async def delete_file(request: Request) -> Response:
    runtime_of(request).storage.delete_file(request.path_params["file_id"])
    return ok(True)


async def upload_extension(request: Request) -> Response:
    name, content, _ = await _uploaded(request, purpose_field=False)
    stored = runtime_of(request).storage.save_extension(name, content)
    return ok({"id": stored.id})


async def list_extensions(request: Request) -> Response:
    extensions = runtime_of(request).storage.list_extensions()
    return ok([{"id": e.id, "file_name": e.file_name, "creation_time": e.creation_time} for e in extensions])


async def delete_extension(request: Request) -> Response:
    runtime_of(request).storage.delete_extension(request.path_params["extension_id"])
    return ok(True)


# -- deprecated browser sessions -------------------------------------------------------------
async def open_browser_session(request: Request) -> Response:
    runtime = runtime_of(request)
    body = parse_body(BrowserSessionRequest, await json_body(request))
    if body.profile_id is None:
        profile_id = runtime.storage.create_profile(None)
    else:
        profile_id = body.profile_id
        if not runtime.storage.profile_exists(profile_id):
            runtime.storage.create_profile(profile_id)
    task_request = TaskRequest(
        task=None,
        url=body.url,
        device=body.device or "desktop",
        profile_id=profile_id,
        proxy_server=body.proxy_server,
        proxy_username=body.proxy_username,
        proxy_password=body.proxy_password,
        extensions=body.extensions,
    )
    task = await runtime.submit(task_request)
    live_url = live_url_for(request, task.id, task.live_token) if body.live_view else None
    return ok({"profile_id": profile_id, "live_id": task.id, "live_url": live_url})


async def close_browser_session(request: Request) -> Response:
    runtime = runtime_of(request)
    task = runtime.get(request.path_params["live_id"])
    if task.request.task is not None:
        raise NotFound(f"Browser session {task.id!r} not found.")
    if task.active:
        await runtime.cancel(task.id)
    return ok(True)


def api_routes() -> list[BaseRoute]:
    return [
        Route("/task", submit_task, methods=["POST"]),
        Route("/task", list_tasks, methods=["GET"]),
        Route("/task/{task_id}", get_task, methods=["GET"]),
        Route("/task/{task_id}", cancel_task, methods=["DELETE"]),
        Route("/task/{task_id}/event", send_event, methods=["POST"]),
        Route("/profile", create_profile, methods=["POST"]),
        Route("/profile", list_profiles, methods=["GET"]),
        Route("/profile/{profile_id}", delete_profile, methods=["DELETE"]),
        Route("/file", upload_file, methods=["POST"]),
        Route("/file/{file_id}", delete_file, methods=["DELETE"]),
        Route("/extension", upload_extension, methods=["POST"]),
        Route("/extension", list_extensions, methods=["GET"]),
        # The document names the first delete route; the official SDK calls the second.
        Route("/browser/extension/{extension_id}", delete_extension, methods=["DELETE"]),
        Route("/extension/{extension_id}", delete_extension, methods=["DELETE"]),
        Route("/browser/session", open_browser_session, methods=["POST"]),
        Route("/browser/session/{live_id}", close_browser_session, methods=["DELETE"]),
    ]


# -- middleware ----------------------------------------------------------------------------
class GuardMiddleware:
    """Host check on every request; ``apikey`` check on the API; errors as ``{"detail"}``."""

    def __init__(self, app: ASGIApp, settings: LocalServerSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["type"] == "websocket":  # the live view's socket: the same Host check
            if self.settings.accepts_host(headers.get("host", "")):
                await self.app(scope, receive, send)
            else:
                await receive()  # the connect message, then the refusal (an HTTP 403)
                await send({"type": "websocket.close", "code": 1008, "reason": "Unknown Host header."})
            return
        if not self.settings.accepts_host(headers.get("host", "")):
            response: Response = JSONResponse({"detail": "Unknown Host header."}, status_code=421)
            await response(scope, receive, send)
            return
        if scope["path"].startswith(API_PREFIX + "/") and not self._key_ok(headers.get("apikey")):
            detail = "Missing apikey header." if "apikey" not in headers else "Invalid API key."
            await JSONResponse({"detail": detail}, status_code=401)(scope, receive, send)
            return
        limit = self._body_limit(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": _too_large(limit)}, status_code=413)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)

    def _body_limit(self, path: str) -> int:
        uploads = (API_PREFIX + "/file", API_PREFIX + "/extension", API_PREFIX + "/browser/extension")
        return (
            self.settings.max_upload_bytes if path.rstrip("/") in uploads else self.settings.max_request_bytes
        )

    def _key_ok(self, presented: str | None) -> bool:
        if not presented:
            return False
        given = presented.encode()
        # Compare against every key in constant time, without stopping at the first match.
        matches = [hmac.compare_digest(given, key.encode()) for key in self.settings.api_keys]
        return any(matches)


def _too_large(limit: int) -> str:
    return f"The request body is larger than this server accepts ({limit:,} bytes)."


def _counting(receive: Receive, limit: int) -> Receive:
    """``receive``, failing with 413 once the body grows past ``limit`` (a body sent in chunks
    has no Content-Length to check up front)."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(_too_large(limit))
        return message

    return counted


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    detail = getattr(exc, "detail", "Not found.")
    return JSONResponse({"detail": detail}, status_code=status)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": f"Internal server error: {type(exc).__name__}."}, status_code=500)


def create_app(
    settings: LocalServerSettings,
    *,
    agent_selector: AgentSelector | None = None,
    runtime: LocalRuntime | None = None,
    manage_runtime: bool = True,
) -> Starlette:
    """Build the ASGI app. With ``manage_runtime`` the app's lifespan starts and closes it."""
    if not settings.api_keys:
        raise ValueError("The local server needs at least one API key (settings.api_keys).")
    runtime = runtime or LocalRuntime(settings, agent_selector=agent_selector)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_runtime:
            await runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                await runtime.aclose()

    from starlette.exceptions import HTTPException

    app = Starlette(
        routes=[
            Mount(API_PREFIX, routes=api_routes()),
            *live.routes(),
            *task_files.routes(),
            # The pages the demo and the docs use; static and public, like any web site.
            Mount("/demo", StaticFiles(directory=DEMO_SITE, html=True)),
        ],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _not_found,
            Exception: _internal_error,
        },
    )
    app.state.runtime = runtime
    app.add_middleware(GuardMiddleware, settings=settings)
    return app


__all__ = ["API_PREFIX", "create_app"]
