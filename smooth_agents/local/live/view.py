"""The live view: a page where a person watches a session's browser and, when the link asks for
it (``interactive=true``), uses it: clicks, types, signs in, then hands it back.

The page's pictures and state come over a WebSocket (``websocket``) as the page changes;
``embed=true`` shows the picture alone, for an iframe of the user's own page. The link carries a
per-task token instead of the API key, so it can be shared with a person without sharing the key;
the token opens the page, its socket, its pictures and its state, and nothing else.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ...protocol import LIVE_EMBED, LIVE_INTERACTIVE
from ..errors import ActionFailed
from ..files.links import task_of_link
from ..tasks.task import Task, TaskEvent
from .websocket import socket_route

# Steps of a model agent the live view lists, the latest first.
SHOWN_STEPS = 10
# The page's template, script and style (served at ASSETS_PATH): a folder of their own, so that
# the mount serves nothing else (this package's code is beside it).
ASSETS = Path(__file__).parent / "assets"
ASSETS_PATH = "/live/assets"
_PAGE = (ASSETS / "view.html").read_text(encoding="utf-8")
# What the page may load: its own script, style and pictures, and its own socket; nothing inline.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def _authorized_task(request: Request) -> Task | Response:
    task: Task | None = task_of_link(request, lambda t: t.live_token)
    if task is None:
        return JSONResponse({"detail": "Unknown live view link."}, status_code=404)
    return task


async def live_page(request: Request) -> Response:
    found = _authorized_task(request)
    if isinstance(found, Response):
        return found
    interactive = request.query_params.get(LIVE_INTERACTIVE, "").lower() == "true"
    embed = request.query_params.get(LIVE_EMBED, "").lower() == "true"
    query = urlencode({"token": found.live_token, LIVE_INTERACTIVE: str(interactive).lower()})
    base = f"/live/{quote(found.id, safe='')}"
    config = {"socket": f"{base}/socket?{query}", "interactive": interactive, "embed": embed}
    classes = [name for name, on in (("interactive", interactive), ("embed", embed)) if on]
    page = _PAGE.format(
        task_id=html.escape(found.id),
        status=html.escape(found.status),
        control="You are in control" if interactive else "View only",
        body_class=" ".join(classes),
        assets=ASSETS_PATH,
        # The first picture while the socket opens (a finished task has none).
        first_frame=html.escape(f"{base}/frame.jpg?{query}" if found.active else "", quote=True),
        # As JSON in a script element: no "<" may close it early.
        config=json.dumps(config).replace("<", "\\u003c"),
    )
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if embed:
        # Framed by the user's own page: no frame-ancestors limit on this response.
        headers["Content-Security-Policy"] = _POLICY
    else:
        headers["Content-Security-Policy"] = _POLICY + "; frame-ancestors 'none'"
        headers["X-Frame-Options"] = "DENY"
    return HTMLResponse(page, headers=headers)


async def live_state(request: Request) -> Response:
    found = _authorized_task(request)
    if isinstance(found, Response):
        return found
    url = found.browser.url if found.browser is not None else None
    state = {"status": found.status, "url": url, "steps": last_steps(found)}
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


def last_steps(task: Task) -> list[dict[str, Any]]:
    """The last actions, as a watcher reads them: the agent's steps (its ``browser_action``
    events) and the actions a client sent the session (their result events), each with its
    name, what it acted on (a ref, an address, a key; never typed text) and how it went."""
    shown: list[dict[str, Any]] = []
    for event in reversed(task.events):
        step = _client_action(task, event) if "code" in event.payload else _agent_step(event)
        if step is None:
            continue
        shown.append(step)
        if len(shown) == SHOWN_STEPS:
            break
    return shown[::-1]


def _agent_step(event: TaskEvent) -> dict[str, Any] | None:
    if event.name != "browser_action":
        return None
    given = event.payload.get("input") or {}
    target = next((str(given[k]) for k in ("ref", "url", "key", "index", "direction") if k in given), "")
    return {
        "name": str(event.payload.get("name") or "action"),
        "target": target[:120],
        "outcome": str(event.payload.get("outcome") or "")[:160],
        "step": event.payload.get("step"),
    }


def _client_action(task: Task, event: TaskEvent) -> dict[str, Any] | None:
    """The result of an action a client sent (``{"code", "output"}``), named by its action."""
    if event.name not in ("browser_action", "session_action") or event.id is None:
        return None
    name, target = task.client_actions.get(event.id, (event.name, ""))
    failed = event.payload.get("code") != 200
    return {
        "name": name,
        "target": target[:120],
        "outcome": str(event.payload.get("output") or "")[:160] if failed else "done",
        "step": None,
    }


async def live_frame(request: Request) -> Response:
    found = _authorized_task(request)
    if isinstance(found, Response):
        return found
    if found.browser is None:
        return JSONResponse({"detail": f"The task is {found.status}; no browser to show."}, status_code=410)
    try:
        image = await found.browser.screenshot()
    except ActionFailed as exc:
        return JSONResponse({"detail": str(exc)}, status_code=410)
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [
        Mount(ASSETS_PATH, StaticFiles(directory=ASSETS, html=False)),
        Route("/live/{task_id}", live_page, methods=["GET"]),
        Route("/live/{task_id}/state", live_state, methods=["GET"]),
        Route("/live/{task_id}/frame.jpg", live_frame, methods=["GET"]),
        socket_route(last_steps),
    ]
