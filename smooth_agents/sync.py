"""``SmoothClient``: a blocking facade over ``AsyncSmoothClient``, with no second copy of logic.

Every call runs on a private event loop thread (an anyio blocking portal), so the facade works
from plain scripts, from sync LangChain tools, and from a thread that already runs an event loop
(a notebook cell). Methods are the async ones, wrapped; handles are wrapped the same way.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import functools
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import anyio
import httpx2
from anyio.from_thread import BlockingPortal
from pydantic import SecretStr

from .client import AsyncSmoothClient
from .handles import AsyncTaskHandle
from .models import TaskUpdate
from .pacing import PollSettings
from .session import AsyncSession

if TYPE_CHECKING:
    from .shared_server import SharedLocalServer

P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W")


class _PortalBound:
    """Something async (``_target``) driven through a blocking portal."""

    def __init__(self, portal: BlockingPortal, target: Any) -> None:
        self._portal = portal
        self._target = target


def _blocking(
    method: Callable[Concatenate[Any, P], Awaitable[R]],
) -> Callable[Concatenate[_PortalBound, P], R]:
    """The sync twin of an async method: same parameters, same docs, run on the portal."""
    return _blocking_into(method, _as_is)


def _as_is(portal: BlockingPortal, result: R) -> R:
    return result


def _blocking_into(
    method: Callable[Concatenate[Any, P], Awaitable[R]], twin: Callable[[BlockingPortal, R], W]
) -> Callable[Concatenate[_PortalBound, P], W]:
    """The sync twin of an async method whose result is async itself (a task handle, a session):
    same parameters, same docs, the result handed back as its blocking ``twin``."""

    @functools.wraps(method)
    def call(self: _PortalBound, /, *args: P.args, **kwargs: P.kwargs) -> W:
        result = _call(self._portal, functools.partial(method, self._target, *args, **kwargs))
        return twin(self._portal, result)

    return call


# How long a call interrupted in its thread waits for its clean-up on the loop.
INTERRUPTED_WAIT_SECONDS = 15.0


def _call(portal: BlockingPortal, call: Callable[[], Awaitable[R]]) -> R:
    """``await call()`` on the loop, waited for. Interrupted while it waits (Ctrl-C), the call is
    cancelled on the loop as the async one would be, and its clean-up waited for (a task whose
    start was cut short is cancelled, so is the task of a result given up on) before the
    interruption goes on: else the call ran on unseen, and its task to its maximum duration."""
    ended = threading.Event()

    async def run() -> R:
        # Called on the loop thread: the awaitable (a coroutine, a session opener) is made there.
        try:
            return await call()
        finally:
            ended.set()

    future = portal.start_task_soon(run)
    try:
        return future.result()
    except BaseException:
        if future.cancel():  # still running on the loop
            ended.wait(INTERRUPTED_WAIT_SECONDS)
        raise


def _blocking_iterator(
    method: Callable[Concatenate[Any, P], AsyncIterator[R]],
) -> Callable[Concatenate[_PortalBound, P], Generator[R, None, None]]:
    """The sync twin of a method that returns an async iterator (``crawl``, ``map``): same
    parameters, same docs, an ordinary iterator driven through the portal. Its arguments are
    checked at the call, as the async method checks them; breaking out of the loop (or closing
    the iterator) closes the async one, which stops its work."""

    @functools.wraps(method)
    def call(self: _PortalBound, /, *args: P.args, **kwargs: P.kwargs) -> Generator[R, None, None]:
        iterator = self._portal.call(functools.partial(method, self._target, *args, **kwargs))
        return _iterate(self._portal, iterator)

    return call


_END = object()


def _iterate(portal: BlockingPortal, iterator: AsyncIterator[R]) -> Generator[R, None, None]:
    try:
        while True:
            item = portal.call(_next_or_end, iterator)
            if item is _END:
                return
            yield item
    finally:
        with contextlib.suppress(RuntimeError):  # the client (and its loop) closed first
            portal.call(_aclose, iterator)


async def _next_or_end(iterator: AsyncIterator[R]) -> Any:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return _END


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def _property(name: str) -> property:
    return property(lambda self: getattr(self._target, name), doc=f"See the async handle's ``{name}``.")


class TaskHandle(_PortalBound):
    """Blocking twin of ``AsyncTaskHandle``."""

    id = _property("id")
    task = _property("task")
    status = _property("status")
    live_url = _property("live_url")
    has_custom_tools = _property("has_custom_tools")
    result = _blocking(AsyncTaskHandle.result)
    cancel = _blocking(AsyncTaskHandle.cancel)
    wait_live_url = _blocking(AsyncTaskHandle.wait_live_url)

    def follow_to_end(self) -> None:
        """Keep following the task until it ends (see the async handle)."""
        _call(self._portal, self._target.follow_to_end)

    aclose = _blocking(AsyncTaskHandle.aclose)
    end_person_tools = _blocking(AsyncTaskHandle.end_person_tools)

    def updates(self) -> Iterator[TaskUpdate]:
        """Progress as it happens (blocking iterator)."""
        with self._portal.wrap_async_context_manager(_aiter_as_context(self._target)) as iterator:
            while True:
                update = self._portal.call(_next_or_none, iterator)
                if update is None:
                    return
                yield update

    def __repr__(self) -> str:
        return f"TaskHandle(id={self.id!r}, status={self.status!r})"


class _aiter_as_context:
    """Keeps an async generator open for the blocking iterator and closes it on exit."""

    def __init__(self, handle: AsyncTaskHandle) -> None:
        self._iterator = handle.updates()

    async def __aenter__(self) -> Any:
        return self._iterator

    async def __aexit__(self, *exc: object) -> None:
        await self._iterator.aclose()


async def _next_or_none(iterator: Any) -> TaskUpdate | None:
    try:
        update: TaskUpdate = await iterator.__anext__()
    except StopAsyncIteration:
        return None
    return update


class Session(_PortalBound):
    """Blocking twin of ``AsyncSession``; a context manager that closes the session."""

    id = _property("id")
    live_url = _property("live_url")
    closed = _property("closed")
    goto = _blocking(AsyncSession.goto)
    extract = _blocking(AsyncSession.extract)
    evaluate_js = _blocking(AsyncSession.evaluate_js)
    run_task = _blocking(AsyncSession.run_task)
    hand_over = _blocking(AsyncSession.hand_over)
    cancel_hand_over = _blocking(AsyncSession.cancel_hand_over)
    let_go = _blocking(AsyncSession.let_go)
    close = _blocking(AsyncSession.close)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(force=exc_type is not None)

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, closed={self.closed})"


class SmoothClient(_PortalBound):
    """Blocking client for the Smooth API; takes the same arguments as ``AsyncSmoothClient``."""

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx2.AsyncBaseTransport | None = None,
        poll: PollSettings | None = None,
        action_timeout: float = 300.0,
        local_model: Any = None,
        shared_server: SharedLocalServer | None = None,
    ) -> None:
        # The parameters of AsyncSmoothClient, written out for the type checker (a test keeps the
        # two signatures equal).
        target = AsyncSmoothClient(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            poll=poll,
            action_timeout=action_timeout,
            local_model=local_model,
            shared_server=shared_server,
        )
        self._loop_thread: _LoopThread | None = _LoopThread()
        super().__init__(self._loop_thread.portal, target)
        _open_clients.add(self)

    config = _property("config")
    embedded = _property("embedded")
    has_hand_back = _property("has_hand_back")
    has_local_model = _property("has_local_model")
    requests_sent = _property("requests_sent")
    sessions_outlive_client = _property("sessions_outlive_client")
    connect = _blocking(AsyncSmoothClient.connect)
    warm_up = _blocking(AsyncSmoothClient.warm_up)
    get_task = _blocking(AsyncSmoothClient.get_task)
    list_tasks = _blocking(AsyncSmoothClient.list_tasks)
    cancel_task = _blocking(AsyncSmoothClient.cancel_task)
    create_profile = _blocking(AsyncSmoothClient.create_profile)
    list_profiles = _blocking(AsyncSmoothClient.list_profiles)
    delete_profile = _blocking(AsyncSmoothClient.delete_profile)
    upload_file = _blocking(AsyncSmoothClient.upload_file)
    delete_file = _blocking(AsyncSmoothClient.delete_file)
    upload_extension = _blocking(AsyncSmoothClient.upload_extension)
    list_extensions = _blocking(AsyncSmoothClient.list_extensions)
    delete_extension = _blocking(AsyncSmoothClient.delete_extension)

    run = _blocking_into(AsyncSmoothClient.run, TaskHandle)
    map = _blocking_iterator(AsyncSmoothClient.map)
    crawl = _blocking_iterator(AsyncSmoothClient.crawl)
    extract_many = _blocking_iterator(AsyncSmoothClient.extract_many)
    session = _blocking_into(AsyncSmoothClient.session, Session)

    def task(self, task_id: str) -> TaskHandle:
        """A handle on an existing task."""
        return TaskHandle(self._portal, self._portal.call(_connected_task, self._target, task_id))

    attach_session = _blocking_into(AsyncSmoothClient.attach_session, Session)
    open_session = _blocking_into(AsyncSmoothClient.open_session, Session)

    def close(self) -> None:
        """Close connections, the embedded server and the private loop; safe to repeat.

        Calls still running on the loop (an agent thread waiting on a task) are cancelled."""
        loop_thread, self._loop_thread = self._loop_thread, None
        if loop_thread is None:
            return
        _open_clients.discard(self)
        try:
            self._portal.call(self._target.close)
        finally:
            loop_thread.stop()

    def __enter__(self) -> SmoothClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._target).replace("AsyncSmoothClient", "SmoothClient")

    def __del__(self) -> None:
        # A forgotten client must not leave its loop thread (and a browser) running.
        if getattr(self, "_loop_thread", None) is not None:
            # At interpreter shutdown there is nothing useful to report.
            with contextlib.suppress(Exception):
                self.close()


class _LoopThread:
    """A private event loop on a daemon thread, reached through an anyio blocking portal.

    Daemon, so a program that forgets close() still exits; the atexit hook below closes such
    clients first (sessions, connections, the embedded browser) while their loop still runs.
    """

    def __init__(self) -> None:
        ready = threading.Event()
        self._portal: BlockingPortal | None = None

        async def serve() -> None:
            async with BlockingPortal() as portal:
                self._portal = portal
                ready.set()
                await portal.sleep_until_stopped()

        self._thread = threading.Thread(
            target=anyio.run, args=(serve,), name="smooth-client-loop", daemon=True
        )
        self._thread.start()
        ready.wait()

    @property
    def portal(self) -> BlockingPortal:
        assert self._portal is not None
        return self._portal

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.portal.call(self.portal.stop, True)
        self._thread.join(timeout=30)


_open_clients: weakref.WeakSet[SmoothClient] = weakref.WeakSet()


@atexit.register
def _close_forgotten_clients() -> None:
    for client in list(_open_clients):
        with contextlib.suppress(Exception):
            client.close()


class ClientLoop:
    """How the tool runtime (``agent_tools.runtime``) runs its coroutines on a ``SmoothClient``'s
    private loop, next to the async client they must use (its connections belong to that loop).
    Kept off ``SmoothClient`` itself, whose methods are the user's."""

    def __init__(self, client: SmoothClient) -> None:
        self._portal = client._portal
        self.client: AsyncSmoothClient = client._target

    def call(self, function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """``await function(*args, **kwargs)`` on the loop, waited for."""
        return self._portal.call(functools.partial(function, *args, **kwargs))

    def submit(
        self, function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[R]:
        """Start the call on the loop; await the future with ``asyncio.wrap_future`` from another
        loop. Cancelling the future cancels the call."""
        return self._portal.start_task_soon(functools.partial(function, *args, **kwargs))


async def _connected_task(client: AsyncSmoothClient, task_id: str) -> AsyncTaskHandle:
    await client.connect()
    return client.task(task_id)
