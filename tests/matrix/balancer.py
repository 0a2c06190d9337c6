"""A load balancer in front of smooth-mcp replicas, as a deployment past one machine has one.

Each HTTP request goes to the next replica in turn (round robin per request, the way a layer-7
balancer without session affinity spreads work), so the requests within one call land on
different replicas; and each tool call (a ``tools/call`` request) goes to another replica than the
call before it, whatever came between, so every call that follows another meets the replica that
did not see it. Every request is sent on a connection of its own that the replica closes after
answering; the answer, a stream included, is passed on as it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType
from urllib.parse import urlsplit

# Hop-by-hop headers: the balancer's connection to each side is its own.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection"}


class RoundRobinBalancer:
    """Started with ``with``; ``base_url`` is where hosts connect, ``served`` the requests each
    replica was given (in the order of ``backends``), ``tool_calls`` the replica each tool call
    went to."""

    def __init__(self, backends: list[str]) -> None:
        self._backends = [(urlsplit(b).hostname or "127.0.0.1", urlsplit(b).port or 80) for b in backends]
        self.served = [0] * len(backends)
        self.tool_calls: list[int] = []
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="balancer", daemon=True)
        self._server: asyncio.Server | None = None
        self._serving: set[asyncio.Task[None]] = set()
        self.base_url = ""

    def __enter__(self) -> RoundRobinBalancer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(10)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()  # no new connections
            # Requests still being answered (a stream a host left open) end with the balancer,
            # before waiting for the server (which, from Python 3.12, waits for its connections).
            for serving in self._serving:
                serving.cancel()
            await asyncio.gather(*self._serving, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _pick(self, body: bytes) -> tuple[str, int]:
        if b'"tools/call"' in body:
            index = (self.tool_calls[-1] + 1) % len(self._backends) if self.tool_calls else 0
            self.tool_calls.append(index)
        else:
            index = self._next
            self._next = (self._next + 1) % len(self._backends)
        self.served[index] += 1
        return self._backends[index]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serving = asyncio.current_task()
        assert serving is not None
        self._serving.add(serving)
        upstream: asyncio.StreamWriter | None = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return  # the host closed a connection it kept
            request_line, *fields = head.decode("latin-1").rstrip("\r\n").split("\r\n")
            if not all(":" in field for field in fields):
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            names = [field.split(":", 1)[0].strip().lower() for field in fields]
            if "transfer-encoding" in names:
                writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
                return
            header = dict(zip(names, (f.split(":", 1)[1].strip() for f in fields), strict=True))
            length = int(header.get("content-length", "0"))
            body = await reader.readexactly(length)
            kept = [f for f, n in zip(fields, names, strict=True) if n not in HOP_BY_HOP]
            answer, upstream = await asyncio.open_connection(*self._pick(body))
            sent = "\r\n".join([request_line, *kept, "Connection: close"]) + "\r\n\r\n"
            upstream.write(sent.encode("latin-1") + body)
            await upstream.drain()
            while chunk := await answer.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # either side went away mid-request; the host sees its connection end
        finally:
            for side in (upstream, writer):
                if side is not None:
                    side.close()
                    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                        await side.wait_closed()
            self._serving.discard(serving)
