"""Protocol 2026-07-28: requests to the client carried by the calls in flight (``CallRounds``).

A server asks a 2026-07-28 client (a sampling turn, an elicitation) only by answering one of its
calls "input required": the client answers the requests and sends the call again, with the state
the server gave. ``CallRounds``, a server middleware, runs a call's handler in the background
while the call answers "input required" whenever requests wait, and picks the call up again when
the client sends it back. Requests come from two places:

- the handler of the call itself (``ask_in_call``): smooth_session_handoff's elicitations;
- a queue of the caller shared by all its calls (``caller_queue``, given by a subclass): the turns
  of the host's model that the caller's tasks ask for (``host_model_rounds``), which ride
  whichever of the caller's calls is in flight.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp_types import CallToolResult, ClientCapabilities, TextContent
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from .callers import credential_owner

if TYPE_CHECKING:
    from smooth_agents.agent_tools import ToolRuntime

log = logging.getLogger("smooth_agents.mcp")

# How long the server holds a call answered "input required" for the client to send it back: the
# SDK's own bound on the state it hands out (a later retry is refused anyway). A person may be
# asked to approve each request, so it is minutes, not seconds. A call not sent back is given up:
# its handler is cancelled (a task it started with it), the requests it carried go back to their
# queue.
HELD_SECONDS = 600.0
# Clients give up on a call after this many "input required" answers (the default of the Python
# and TypeScript SDKs), so a call asks no more than that; its own requests past that fail
# (``RoundTripUnavailable``), and other tools answer when their handler ends.
MAX_ROUNDS = 10
# How often an open call that follows a task (see ``CallRounds.follows``) looks at it again.
STATUS_POLL_SECONDS = 1.0
GONE = (
    "The server no longer holds this call: it was given up (sent back more than {seconds:g} s after "
    "it was answered 'input required', or cancelled) and its work stopped. Call the tool again."
)


class RoundTripUnavailable(RuntimeError):
    """No request can reach the client from here: the call is not carried by ``CallRounds``, or
    it used the rounds a client allows."""


class Ask:
    """One request waiting for a call to carry it to the client, and for the client's answer."""

    def __init__(self, queue: AskQueue, request: dict[str, Any], parse: Callable[[Any], Any]) -> None:
        self.key = "ask-" + secrets.token_hex(8)
        self.queue = queue
        self.request = request  # the input request, as on the wire
        self.parse = parse  # the client's answer (wire JSON) as what the asker awaits
        self.answer: asyncio.Future[Any] = queue.loop.create_future()
        self.holder: _Call | None = None  # the call that carries it, once one does
        self.free_since = time.monotonic()

    def settle(self, wire: Any) -> None:
        if self.answer.done():
            return
        try:
            self.answer.set_result(self.parse(wire))
        except Exception as exc:  # an answer of the wrong shape: the asker's to handle
            self.answer.set_exception(exc)


class AskQueue:
    """Requests waiting for a call to carry them."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.asks: dict[str, Ask] = {}
        self._news = asyncio.Event()

    def news(self) -> asyncio.Event:
        """Set when a request comes or goes back to the queue (take it before looking)."""
        return self._news

    def _signal(self) -> None:
        self._news.set()
        self._news = asyncio.Event()

    def put(self, request: dict[str, Any], parse: Callable[[Any], Any]) -> Ask:
        ask = Ask(self, request, parse)
        self.asks[ask.key] = ask
        self._signal()
        return ask

    def drop(self, ask: Ask) -> None:
        self.asks.pop(ask.key, None)
        if ask.holder is not None:
            ask.holder.held.pop(ask.key, None)

    def free(self) -> list[Ask]:
        return [ask for ask in self.asks.values() if ask.holder is None and not ask.answer.done()]

    def release(self, asks: Iterable[Ask]) -> None:
        for ask in asks:
            ask.holder = None
            ask.free_since = time.monotonic()
        self._signal()


# The call whose handler runs in this context (set for the handler's task).
_CURRENT: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("smooth_mcp_call", default=None)


async def ask_in_call(request: dict[str, Any], parse: Callable[[Any], Any]) -> Any:
    """Ask the client of the call in flight (``request`` as on the wire) and wait for the answer,
    parsed by ``parse``; ``RoundTripUnavailable`` when no request can reach it from here."""
    call = _CURRENT.get()
    if call is None or call.asked >= MAX_ROUNDS:
        raise RoundTripUnavailable("no request reaches this client from this call")
    ask = call.own.put(request, parse)
    try:
        return await ask.answer
    finally:
        call.own.drop(ask)


class _RoundSession:
    """The session a call's handler sees: that of the call's latest round, so that what the handler
    sends (progress) goes to the request the client waits on, not to one already answered."""

    def __init__(self, current: ServerSession) -> None:
        self.current = current

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)


class _Call:
    """One ``tools/call`` carried through its rounds."""

    def __init__(
        self,
        rounds: CallRounds,
        owner: str,
        queue: AskQueue | None,
        ctx: ServerRequestContext[Any, Any],
        call_next: CallNext,
    ) -> None:
        self.id = "call-" + secrets.token_urlsafe(16)
        self.rounds = rounds
        self.owner = owner
        self.own = AskQueue()  # the handler's own requests
        self.queues = [q for q in (queue, self.own) if q is not None]
        self.loop = self.own.loop
        self.session = _RoundSession(ctx.session)
        self.ctx = dataclasses.replace(ctx, session=cast(ServerSession, self.session))
        self.call_next = call_next
        self.held: dict[str, Ask] = {}
        self.asked = 0
        self.follows = queue is not None and rounds.follows(ctx.params or {})
        self.deadline = self.loop.time() + rounds.runtime.settings.wait_seconds
        self.expiry: asyncio.TimerHandle | None = None
        self.job = self.start()

    def start(self) -> asyncio.Task[HandlerResult]:
        token = _CURRENT.set(self)
        try:  # the handler's task keeps the context it was made in: this call
            job = asyncio.ensure_future(self.call_next(self.ctx))
        finally:
            _CURRENT.reset(token)
        job.add_done_callback(_seen)
        return job

    async def serve(self) -> HandlerResult:
        """This round's answer: "input required" while requests wait, else the handler's result."""
        try:
            while True:
                news = [queue.news() for queue in self.queues]
                if self.asked < MAX_ROUNDS:
                    for queue in self.queues:
                        for ask in queue.free():
                            ask.holder = self
                            self.held[ask.key] = ask
                    if self.held:
                        return self.ask()
                else:
                    for ask in self.own.free():  # they can no longer reach the client
                        ask.answer.set_exception(RoundTripUnavailable("the client's rounds are used up"))
                if not self.job.done():
                    await _first(self.job, news)
                    continue
                result = self.job.result()
                if not self.goes_on(result):
                    return result
                # The task runs: wait for its next request, and look at it again now and then.
                wait = min(STATUS_POLL_SECONDS, self.deadline - self.loop.time())
                if not await _any(news, max(wait, 0.0)):
                    self.job = self.start()
        except BaseException:
            self.give_up()
            raise

    def goes_on(self, result: HandlerResult) -> bool:
        """Whether this call follows a task still running, with time and rounds left."""
        if not self.follows or self.asked >= MAX_ROUNDS or self.loop.time() >= self.deadline:
            return False
        if not isinstance(result, Mapping) or result.get("isError"):
            return False
        structured = result.get("structuredContent")
        return isinstance(structured, Mapping) and self.rounds.still_running(structured)

    def ask(self) -> dict[str, Any]:
        self.asked += 1
        self.rounds.held[self.id] = self
        self.expiry = self.loop.call_later(HELD_SECONDS, self.expire)
        requests = {key: ask.request for key, ask in self.held.items()}
        return {"resultType": "input_required", "inputRequests": requests, "requestState": self.id}

    def resume(self, ctx: ServerRequestContext[Any, Any], responses: Any) -> None:
        """The client sent the call back: its answers go to the requests they answer."""
        if self.expiry is not None:
            self.expiry.cancel()
        self.session.current = ctx.session
        for key, wire in (responses if isinstance(responses, Mapping) else {}).items():
            ask = self.held.pop(key, None)
            if ask is not None:
                ask.settle(wire)
        if self.follows and self.job.done():
            self.job = self.start()  # the requests answered moved the task on

    def expire(self) -> None:
        log.info("a call answered 'input required' was not sent back: its work is stopped")
        self.give_up()

    def give_up(self) -> None:
        """The client will not send the call back: the handler is cancelled, the requests it
        carried wait for another call."""
        self.rounds.held.pop(self.id, None)
        if self.expiry is not None:
            self.expiry.cancel()
        for queue in self.queues:
            queue.release([ask for ask in self.held.values() if ask.queue is queue])
        self.held.clear()
        self.job.cancel()


def _seen(job: asyncio.Future[Any]) -> None:
    """A handler's failure is read by the round that answers with it; one given up is not."""
    if not job.cancelled():
        job.exception()


async def _first(job: asyncio.Future[Any], news: list[asyncio.Event]) -> None:
    waiting = [asyncio.ensure_future(event.wait()) for event in news]
    try:
        await asyncio.wait([job, *waiting], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiting:
            waiter.cancel()


async def _any(news: list[asyncio.Event], timeout: float) -> bool:
    """Whether one of ``news`` is set within ``timeout`` seconds."""
    waiting = [asyncio.ensure_future(event.wait()) for event in news]
    try:
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiting:
            waiter.cancel()
    return bool(done)


def elicits(capabilities: ClientCapabilities | None) -> bool:
    """Whether a client takes elicitation requests (form or URL)."""
    return capabilities is not None and capabilities.elicitation is not None


class CallRounds:
    """Server middleware (``MCPServer(middleware=[...])``) carrying the requests of the calls of
    clients on protocol 2026-07-28 that take them: see the module's docstring. Calls of other
    clients pass through untouched."""

    def __init__(self, runtime: ToolRuntime) -> None:
        self.runtime = runtime
        self.held: dict[str, _Call] = {}  # calls answered "input required", by their state

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.held)} calls held)"

    def caller_queue(self, ctx: ServerRequestContext[Any, Any], owner: str) -> AskQueue | None:
        """The queue of requests shared by the caller's calls (none here)."""
        return None

    def follows(self, params: Mapping[str, Any]) -> bool:
        """Whether a call follows a task whose requests need calls to carry them (none here)."""
        return False

    def still_running(self, structured: Mapping[str, Any]) -> bool:
        return False

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS:
            return await call_next(ctx)
        owner = credential_owner(cast("Mapping[str, str] | None", getattr(ctx.request, "headers", None)))
        queue = self.caller_queue(ctx, owner)
        if queue is None and not elicits(ctx.session.client_capabilities):
            return await call_next(ctx)  # nothing could ever be asked of this client
        params = ctx.params or {}
        state = params.get("requestState")
        if state is None:
            call = _Call(self, owner, queue, ctx, call_next)
        else:
            held = self.held.get(state) if isinstance(state, str) else None
            if held is None or held.owner != owner:
                gone = CallToolResult(
                    content=[TextContent(text=GONE.format(seconds=HELD_SECONDS))], is_error=True
                )
                return gone.model_dump(by_alias=True, mode="json", exclude_none=True)
            del self.held[state]
            call = held
            call.resume(ctx, params.get("inputResponses"))
        return await call.serve()
