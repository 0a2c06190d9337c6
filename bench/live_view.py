"""The live view's responsiveness: the pushed, interactive view next to the view it replaced (a
screenshot fetched once a second), on loopback.

One local server (``ThreadedServer``, its own headless Chromium) and one session; a second
headless Chromium plays the person, with the live view open in a 1000x700 window. The session's
page is written by ``evaluate_js`` over the API:

- click -> picture: the page turns its background from white to black (and back) on each click.
  The person clicks the middle of the picture (Playwright's mouse in the viewer); the figure runs
  from the viewer's ``mousedown`` to the ``load`` of the first picture whose middle pixel shows
  the new colour (read through a canvas), both on the viewer's clock. The refresh view takes no
  input: it has no such figure.
- change -> picture: the page turns its colour by itself (a script called over the API, which
  notes ``Date.now()`` as it turns it); the figure runs to the viewer's ``load`` of the first
  picture that shows it (``Date.now()`` in both browsers of this machine).
- frames/s animating: pictures loaded by the viewer in ``--seconds`` while a box moves on every
  animation frame; frames idle: pictures loaded in ``--seconds`` while nothing on the page moves.

The refresh view is the page this server served before (its script rebuilt here: every second,
``GET /live/{id}/state`` then a new ``frame.jpg``), run in the same viewer against the routes
that still serve it.

Usage: .venv/bin/python bench/live_view.py [--clicks 30] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
from playwright.async_api import Browser, Page, async_playwright

from smooth_agents.local import LocalServerSettings, ThreadedServer
from smooth_agents.local.browser.chromium import find_chromium
from smooth_agents.protocol import live_view_link

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import act, open_session

API_KEY = "sk-bench-live-view"
WINDOW = {"width": 1000, "height": 700}

# The session's page: white, black after a click (or a call of flip()), white after the next.
FLIPPING = """<!doctype html><html><head><title>Flip</title></head>
<body style="margin:0;height:100vh;background:rgb(255,255,255)">
<script>
  let dark = false;
  window.flip = () => {
    dark = !dark;
    document.body.style.background = dark ? "rgb(0,0,0)" : "rgb(255,255,255)";
    return Date.now();
  };
  addEventListener("click", () => flip());
</script></body></html>"""
ANIMATED = """<!doctype html><html><head><title>Moving</title></head><body style="margin:0">
<div id="box" style="position:absolute;top:200px;width:120px;height:120px;background:#36c"></div>
<script>
  const box = document.getElementById("box");
  const step = (t) => { box.style.left = (t / 4) % 1000 + "px"; requestAnimationFrame(step); };
  requestAnimationFrame(step);
</script></body></html>"""
IDLE = """<!doctype html><html><head><title>Still</title></head>
<body><h1>Nothing moves here</h1><p>A page at rest.</p></body></html>"""

# In the viewer: note each picture's load (both clocks, and whether its middle is dark) and the
# time of each mousedown on the picture.
WATCH = """() => {
  const img = document.getElementById("frame");
  const canvas = document.createElement("canvas");
  canvas.width = 8; canvas.height = 8;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  window.bench = { loads: [], downs: [] };
  img.addEventListener("load", () => {
    const at = performance.now(), wall = Date.now();
    ctx.drawImage(img, 0, 0, 8, 8);
    const dark = ctx.getImageData(4, 4, 1, 1).data[0] < 128;
    window.bench.loads.push({ at, wall, dark });
  });
  img.addEventListener("mousedown", () => window.bench.downs.push(performance.now()), true);
}"""
# The view this server served before, rebuilt in a page of its origin.
REFRESH_VIEW = """([stateUrl, frameUrl]) => {
  const frame = document.createElement("img");
  frame.id = "frame";
  frame.style.maxWidth = "100%";
  document.body.replaceChildren(frame);
  frame.src = frameUrl;
  async function refresh() {
    const r = await fetch(stateUrl, { cache: "no-store" });
    if (r.ok) {
      const s = await r.json();
      if (s.status === "running") frame.src = frameUrl + "&t=" + Date.now();
      if (s.status !== "running" && s.status !== "waiting") return;
    }
    setTimeout(refresh, 1000);
  }
  setTimeout(refresh, 1000);
}"""


class Pages:
    """The bench's pages, served from memory on a loopback port."""

    def __init__(self, pages: dict[str, str]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.strip("/"), "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


PAGES = Pages({"flipping": FLIPPING, "animated": ANIMATED, "idle": IDLE})


def write_page(api: httpx2.Client, task_id: str, name: str) -> None:
    result = act(api, task_id, "browser_action", "goto", {"url": PAGES.base + name})
    assert result["code"] == 200, result


async def loads(viewer: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await viewer.evaluate("window.bench.loads")
    return found


async def shown(viewer: Page, after: int, dark: bool, timeout: float = 10) -> dict[str, Any]:
    """The first picture loaded after the ``after``-th whose middle is ``dark``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for load in (await loads(viewer))[after:]:
            if load["dark"] == dark:
                return load
        await asyncio.sleep(0.005)  # polling only: the figures are the viewer's own timestamps
    raise TimeoutError("the picture never showed the change")


async def change_to_picture(api: httpx2.Client, task_id: str, viewer: Page, rounds: int) -> list[float]:
    dark = await viewer.evaluate("window.bench.loads.length ? window.bench.loads.at(-1).dark : false")
    figures = []
    for _ in range(rounds):
        before = len(await loads(viewer))
        result = await asyncio.to_thread(
            act, api, task_id, "browser_action", "evaluate_js", {"js": "window.flip()"}
        )
        flipped_at = result["output"]["output"]
        dark = not dark
        load = await shown(viewer, before, dark)
        figures.append(load["wall"] - flipped_at)
    return figures


async def click_to_picture(viewer: Page, rounds: int) -> list[float]:
    box = await viewer.locator("#frame").bounding_box()
    assert box is not None
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dark = (await loads(viewer))[-1]["dark"] if await loads(viewer) else False
    figures = []
    for _ in range(rounds):
        before = len(await loads(viewer))
        await viewer.mouse.click(*middle)
        dark = not dark
        load = await shown(viewer, before, dark)
        down = (await viewer.evaluate("window.bench.downs"))[-1]
        figures.append(load["at"] - down)
    return figures


async def frames_in(api: httpx2.Client, task_id: str, viewer: Page, name: str, seconds: float) -> int:
    await asyncio.to_thread(write_page, api, task_id, name)
    await asyncio.sleep(1.0)  # let the change itself arrive before counting
    before = len(await loads(viewer))
    await asyncio.sleep(seconds)
    return len(await loads(viewer)) - before


async def measure(
    person: Browser,
    api: httpx2.Client,
    task_id: str,
    live_url: str,
    pushed: bool,
    clicks: int,
    seconds: float,
) -> dict[str, Any]:
    viewer = await person.new_page(viewport=WINDOW)
    try:
        if pushed:
            await viewer.goto(live_view_link(live_url, interactive=True))
            await viewer.locator("#frame[src^='blob:']").wait_for()
            await viewer.evaluate(WATCH)
        else:
            state_url = live_url.replace("?token=", "/state?token=")
            frame_url = live_url.replace("?token=", "/frame.jpg?token=")
            await viewer.goto(state_url)  # a page of the server's origin, to rebuild the view in
            await viewer.evaluate(REFRESH_VIEW, [state_url, frame_url])
            await viewer.evaluate(WATCH)
        await asyncio.to_thread(write_page, api, task_id, "flipping")
        await shown(viewer, 0, False)
        figures: dict[str, Any] = {}
        figures["change"] = await change_to_picture(api, task_id, viewer, max(5, clicks // 3))
        figures["click"] = await click_to_picture(viewer, clicks) if pushed else None
        figures["animating"] = await frames_in(api, task_id, viewer, "animated", seconds) / seconds
        figures["idle"] = await frames_in(api, task_id, viewer, "idle", seconds)
        return figures
    finally:
        await viewer.close()


def summary(values: list[float] | None) -> str:
    if not values:
        return "n/a (takes no input)"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms (n={len(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        settings = LocalServerSettings(
            api_keys=frozenset({API_KEY}), port=0, data_dir=Path(data), recording=False
        )
        with (
            ThreadedServer(settings) as server,
            httpx2.Client(base_url=server.api_url, headers={"apikey": API_KEY}, timeout=30) as api,
        ):
            session = open_session(api)
            async with async_playwright() as playwright:
                person = await playwright.chromium.launch(
                    executable_path=find_chromium(None, playwright), args=["--no-sandbox"]
                )
                before = await measure(
                    person, api, session["id"], session["live_url"], False, args.clicks, args.seconds
                )
                now = await measure(
                    person, api, session["id"], session["live_url"], True, args.clicks, args.seconds
                )
                await person.close()
            api.delete(f"/task/{session['id']}")
    rows = [
        ("click on the picture -> picture shows it", summary(before["click"]), summary(now["click"])),
        ("page changes -> picture shows it", summary(before["change"]), summary(now["change"])),
        ("frames per second, page animating", f"{before['animating']:.1f}", f"{now['animating']:.1f}"),
        (f"frames in {args.seconds:g} s, page idle", str(before["idle"]), str(now["idle"])),
    ]
    width = max(len(r[0]) for r in rows)
    left = max(len(r[1]) for r in [*rows, ("", "refresh view (before)", "")])
    print(f"{'':{width}}  {'refresh view (before)':{left}}  pushed view (now)")
    for name, old, new in rows:
        print(f"{name:{width}}  {old:{left}}  {new}")


if __name__ == "__main__":
    asyncio.run(main())
