"""The live view's WebSocket (``/live/{task_id}/socket?token=...&interactive=true|false``).

Down the socket: the page's pictures as binary JPEG messages, pushed as the page changes (see
``frames``), and the view's state as JSON text (``{"type": "state", ...}``: status, address,
the last steps, the pending hand-over, how many people are in control). Up the socket, from an
interactive view only: a person's mouse and keyboard (see ``inputs``) and ``{"type":
"done"}``, which hands the browser back. A view-only socket (``interactive`` anything but
``true``) is refused any of these, by the server, and told so (``{"type": "refused"}``).

The link's token is the only key, and only while the task runs: a finished task's socket is told
so and closed, and every socket of a task closes when it ends.

All sockets of one task share one ``LiveHub``: one feed of frames, one queue of input.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame as PageFrame
from playwright.async_api import Page
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from ...cancellation import cancel_and_wait
from ...protocol import LIVE_INTERACTIVE
from ..errors import ActionFailed
from ..files.links import task_of_link
from ..tasks.task import Task
from .frames import Frame, FrameFeed
from .inputs import INPUT_TYPES, KeyInput, MouseInput, PageHands, TextInput, parse_input

log = logging.getLogger("smooth_agents.local.live")

# A tab the page opens this soon after a person's input is theirs (a link opening in a new tab):
# the session moves to it, as a browser shows it to whoever clicked. Chromium lets a page open a
# tab only for this long after a person's gesture (its transient user activation).
PERSON_OPENED_TAB = 5.0
# Close codes: the task has ended; the link names no running task.
ENDED = 4410
UNKNOWN = 4404

StepsOf = Callable[[Task], list[dict[str, Any]]]
PersonInput = MouseInput | KeyInput | TextInput


class Viewer:
    """One socket's outbox: the latest state and the latest frame (a slow viewer skips
    frames rather than falling behind), notes for this viewer alone, and whether to close."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.frame: Frame | None = None
        self.state: str | None = None
        self.notes: list[str] = []
        self.end: tuple[int, str] | None = None
        self.wake = asyncio.Event()

    def say(self, message: dict[str, Any]) -> None:
        self.notes.append(json.dumps(message))
        self.wake.set()


class LiveHub:
    """The live view of one task: its frames, its viewers, and the input of those in control."""

    def __init__(self, task: Task, steps: StepsOf, on_empty: Callable[[LiveHub], None]) -> None:
        self.task = task
        self._steps = steps
        self._on_empty = on_empty
        self.viewers: set[Viewer] = set()
        self.feed: FrameFeed | None = None
        self.hands: PageHands | None = None
        self._url = ""
        self._inputs: collections.deque[PersonInput] = collections.deque()
        self._input_ready = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._last_input = float("-inf")
        self._showing: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    # -- viewers ------------------------------------------------------------------------------
    async def join(self, viewer: Viewer) -> None:
        async with self._lock:
            self.viewers.add(viewer)
            if self.feed is None:
                await self._start()
            assert self.feed is not None
            if self.feed.latest is not None:
                viewer.frame = self.feed.latest
            self.publish_state()

    async def leave(self, viewer: Viewer) -> None:
        async with self._lock:
            self.viewers.discard(viewer)
            if viewer.interactive and self.hands is not None and not self._controllers():
                await self.hands.release()
            if not self.viewers:
                await self._stop()
                self._on_empty(self)
            else:
                self.publish_state()

    def _controllers(self) -> int:
        return sum(1 for v in self.viewers if v.interactive)

    async def _start(self) -> None:
        browser = self.task.browser
        if browser is None:
            raise ActionFailed(f"The task is {self.task.status}; no browser to show.")
        self.feed = FrameFeed(browser, self._on_frame)
        self.hands = PageHands(browser, lambda: self.feed.viewport if self.feed else (1280.0, 800.0))
        await self.feed.start()
        browser.context.on("page", self._on_new_tab)
        for page in browser.tabs():
            page.on("framenavigated", self._on_navigated)
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._watch_task(), name=f"live-watch-{self.task.id}"),
            loop.create_task(self._apply_inputs(), name=f"live-input-{self.task.id}"),
        ]

    async def _stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        if self.feed is not None:
            with contextlib.suppress(PlaywrightError):
                self.feed.browser.context.remove_listener("page", self._on_new_tab)
            for page in self.feed.browser.context.pages:
                with contextlib.suppress(PlaywrightError):
                    page.remove_listener("framenavigated", self._on_navigated)
            await self.feed.stop()
        self.feed = None
        self.hands = None

    # -- what the viewers get ------------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        for viewer in self.viewers:
            viewer.frame = frame
            viewer.wake.set()
        if frame.url != self._url:
            self._url = frame.url
            self.publish_state()

    def publish_state(self) -> None:
        task = self.task
        pending = task.hand_overs.pending
        browser = task.browser
        state = {
            "type": "state",
            "status": task.status,
            "url": browser.url if browser is not None else None,
            "steps": self._steps(task),
            "hand_over": pending.as_json() if pending is not None else None,
            "controllers": self._controllers(),
            "frames": self.feed.mode if self.feed is not None else None,
        }
        text = json.dumps(state)
        for viewer in self.viewers:
            viewer.state = text
            viewer.wake.set()

    async def _watch_task(self) -> None:
        """Tell the viewers each change of the task; close them all when it ends."""
        task = self.task
        while task.active:
            changed = task.changed()
            self.publish_state()
            await changed.wait()
        self.publish_state()
        for viewer in self.viewers:
            viewer.end = (ENDED, f"The task is {task.status}: its live view has ended.")
            viewer.wake.set()

    # -- a person's input -----------------------------------------------------------------------
    def give(self, given: PersonInput) -> None:
        """Queue a person's input for the page (in order; a move superseded by the next move is
        dropped, so a fast mouse never queues up behind a slow page)."""
        if (
            self._inputs
            and isinstance(given, MouseInput)
            and given.action == "move"
            and isinstance(self._inputs[-1], MouseInput)
            and self._inputs[-1].action == "move"
        ):
            self._inputs[-1] = given
        else:
            self._inputs.append(given)
        self._last_input = time.monotonic()
        self.task.touch()  # a person at work keeps the session from its idle timeout
        self._input_ready.set()

    async def _apply_inputs(self) -> None:
        while True:
            await self._input_ready.wait()
            self._input_ready.clear()
            while self._inputs and self.hands is not None:
                await self.hands.apply(self._inputs.popleft())

    def _on_navigated(self, frame: PageFrame) -> None:
        """A page moved on without painting anything new (``history.pushState``, a fragment):
        the view's address follows all the same (a frame's is seen only when one is painted)."""
        browser = self.task.browser
        if frame.parent_frame is None and browser is not None and browser.url != self._url:
            self._url = browser.url
            self.publish_state()

    def _on_new_tab(self, page: Page) -> None:
        page.on("framenavigated", self._on_navigated)
        if time.monotonic() - self._last_input > PERSON_OPENED_TAB:
            return  # not the person's (an agent's click, a script)
        showing = asyncio.get_running_loop().create_task(self._show_tab(page))
        self._showing.add(showing)
        showing.add_done_callback(self._showing.discard)

    async def _show_tab(self, page: Page) -> None:
        browser = self.task.browser
        if browser is None:
            return
        with contextlib.suppress(PlaywrightError, ActionFailed, ValueError):
            await browser.switch_to(browser.tabs().index(page))


class LiveHubs:
    """The hubs of the tasks being watched, by task id."""

    def __init__(self, steps: StepsOf) -> None:
        self._steps = steps
        self._hubs: dict[str, LiveHub] = {}

    def of(self, task: Task) -> LiveHub:
        hub = self._hubs.get(task.id)
        if hub is None:
            hub = self._hubs[task.id] = LiveHub(task, self._steps, self._forget)
        return hub

    def _forget(self, hub: LiveHub) -> None:
        if self._hubs.get(hub.task.id) is hub:
            del self._hubs[hub.task.id]


def socket_route(steps: StepsOf) -> WebSocketRoute:
    """The route of the live view's socket; ``steps`` names a task's last steps for its viewers."""
    hubs = LiveHubs(steps)

    async def live_socket(websocket: WebSocket) -> None:
        task: Task | None = task_of_link(websocket, lambda t: t.live_token)
        if task is None:
            await websocket.close(code=UNKNOWN, reason="Unknown live view link.")
            return
        await websocket.accept()
        if not task.active or task.browser is None:
            # What it did is still shown; the page is gone.
            state = {"type": "state", "status": task.status, "url": None, "steps": steps(task)}
            await websocket.send_text(json.dumps(state | {"hand_over": None, "controllers": 0}))
            await websocket.close(code=ENDED, reason=f"The task is {task.status}: its live view has ended.")
            return
        viewer = Viewer(websocket.query_params.get(LIVE_INTERACTIVE, "").lower() == "true")
        hub = hubs.of(task)
        try:
            await hub.join(viewer)
        except (ActionFailed, PlaywrightError) as exc:
            await hub.leave(viewer)
            await websocket.close(code=ENDED, reason=str(exc)[:120])
            return
        sending = asyncio.get_running_loop().create_task(_send(websocket, viewer))
        try:
            await _receive(websocket, viewer, hub, sending)
        finally:
            # The sender's own end (a socket the person closed under it) is consumed, not raised.
            await cancel_and_wait(sending)
            await hub.leave(viewer)

    return WebSocketRoute("/live/{task_id}/socket", live_socket)


async def _send(websocket: WebSocket, viewer: Viewer) -> None:
    """Everything bound for one viewer, in order: notes, the state, the latest frame; then the
    close, when the task has ended."""
    while True:
        await viewer.wake.wait()
        viewer.wake.clear()
        notes, viewer.notes = viewer.notes, []
        for note in notes:
            await websocket.send_text(note)
        state, viewer.state = viewer.state, None
        if state is not None:
            await websocket.send_text(state)
        frame, viewer.frame = viewer.frame, None
        if frame is not None:
            await websocket.send_bytes(frame.jpeg)
        if viewer.end is not None:
            code, reason = viewer.end
            await websocket.close(code=code, reason=reason)
            return


async def _receive(websocket: WebSocket, viewer: Viewer, hub: LiveHub, sending: asyncio.Task[None]) -> None:
    while not sending.done():
        receiving = asyncio.ensure_future(websocket.receive())
        await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
        if not receiving.done():
            receiving.cancel()
            return  # the sender closed the socket (the task ended)
        message = receiving.result()
        if message["type"] == "websocket.disconnect":
            return
        _handle(message.get("text"), viewer, hub)


def _handle(text: str | None, viewer: Viewer, hub: LiveHub) -> None:
    try:
        message = json.loads(text) if text else None
    except ValueError:
        message = None
    kind = message.get("type") if isinstance(message, dict) else None
    if kind not in INPUT_TYPES and kind != "done":
        viewer.say({"type": "refused", "reason": "Unknown message: send JSON with a known type."})
        return
    if not viewer.interactive:
        viewer.say(
            {
                "type": "refused",
                "reason": "This live view is view only (interactive=false): the page takes no input "
                "from it. Open the link with interactive=true to use the page.",
            }
        )
        return
    if kind == "done":
        if not hub.task.hand_overs.hand_back():
            viewer.say({"type": "refused", "reason": "No hand-over is pending: nothing to hand back."})
        return
    given = parse_input(message)
    if given is None:
        viewer.say({"type": "refused", "reason": f"Not a valid {kind} input message."})
        return
    hub.give(given)
