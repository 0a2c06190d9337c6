"""The live view: a page where a person watches a session's browser, refreshed from screenshots.

The link carries a per-task token instead of the API key, so it can be shared with a person
without sharing the key.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .errors import ActionFailed
from .links import task_of_link
from .tasks import Task

REFRESH_MS = 1000
# Steps of a model agent the live view lists, the latest first.
SHOWN_STEPS = 10

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Smooth local live view: {task_id}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ margin: 0; font: 14px system-ui, sans-serif; background: #111; color: #eee; }}
 header {{ padding: 8px 12px; display: flex; gap: 16px; align-items: baseline; }}
 #status {{ font-weight: 600; }}
 img {{ display: block; max-width: 100%; margin: 0 auto; background: #222; }}
 #steps {{ margin: 0; padding: 6px 12px 6px 32px; color: #bbb; font-size: 13px; }}
 #steps:empty {{ display: none; }}
</style></head>
<body>
<header><span>Task <code>{task_id}</code></span><span id="status">{status}</span>
<span id="url"></span></header>
<ol id="steps" reversed></ol>
<img id="frame" alt="Current browser view" src="{frame}">
<script>
 const frame = document.getElementById("frame");
 const statusEl = document.getElementById("status");
 const urlEl = document.getElementById("url");
 const stepsEl = document.getElementById("steps");
 function showSteps(steps) {{
   stepsEl.replaceChildren(...steps.slice().reverse().map((s) => {{
     const item = document.createElement("li");
     item.textContent = s.name + (s.target ? " " + s.target : "") + (s.outcome ? ": " + s.outcome : "");
     return item;
   }}));
   if (steps.length) stepsEl.start = steps[steps.length - 1].step || steps.length;
 }}
 async function refresh() {{
   const r = await fetch("{state}", {{cache: "no-store"}});
   if (r.ok) {{
     const s = await r.json();
     statusEl.textContent = s.status;
     urlEl.textContent = s.url || "";
     showSteps(s.steps || []);
     if (s.status === "running") frame.src = "{frame}&t=" + Date.now();
     if (s.status !== "running" && s.status !== "waiting") return;
   }}
   setTimeout(refresh, {refresh});
 }}
 setTimeout(refresh, {refresh});
</script>
</body></html>
"""


def _authorized_task(request: Request) -> Task | Response:
    task: Task | None = task_of_link(request, lambda t: t.live_token)
    if task is None:
        return JSONResponse({"detail": "Unknown live view link."}, status_code=404)
    return task


async def live_page(request: Request) -> Response:
    found = _authorized_task(request)
    if isinstance(found, Response):
        return found
    token = html.escape(found.live_token, quote=True)
    base = f"/live/{html.escape(found.id, quote=True)}"
    page = _PAGE.format(
        task_id=html.escape(found.id),
        status=html.escape(found.status),
        frame=f"{base}/frame.jpg?token={token}",
        state=f"{base}/state?token={token}",
        refresh=REFRESH_MS,
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def live_state(request: Request) -> Response:
    found = _authorized_task(request)
    if isinstance(found, Response):
        return found
    url = found.browser.url if found.browser is not None else None
    state = {"status": found.status, "url": url, "steps": last_steps(found)}
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


def last_steps(task: Task) -> list[dict[str, Any]]:
    """The agent's last actions (its ``browser_action`` events), as a watcher reads them: the
    action, what it acted on (a ref, an address, a key; never typed text) and how it went."""
    shown: list[dict[str, Any]] = []
    for event in reversed(task.events):
        if event.name != "browser_action":
            continue
        given = event.payload.get("input") or {}
        target = next((str(given[k]) for k in ("ref", "url", "key", "index", "direction") if k in given), "")
        shown.append(
            {
                "name": event.payload.get("name"),
                "target": target[:120],
                "outcome": str(event.payload.get("outcome") or "")[:160],
                "step": event.payload.get("step"),
            }
        )
        if len(shown) == SHOWN_STEPS:
            break
    return shown[::-1]


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
        Route("/live/{task_id}", live_page, methods=["GET"]),
        Route("/live/{task_id}/state", live_state, methods=["GET"]),
        Route("/live/{task_id}/frame.jpg", live_frame, methods=["GET"]),
    ]
