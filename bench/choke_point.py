"""What the network choke point (smooth_agents/local/browser/proxy.py) costs per page load.

A task with allowed_urls has every connection of its browser go through a proxy gate of its own,
on top of the guard that routes each request (guard.py). Measured side by side, interleaved
(one load of each mode in turn, each load in a new context, as a task's first page is):
  - open:        a task without allowed_urls (no guard, no proxy);
  - guard only:  allowed_urls as before the choke point (requests routed and fetched by the
                 guard, connections made straight to the host);
  - guard+proxy: allowed_urls now (the same, every connection through the task's gate).
Per mode: the median and 90th percentile of a cold load (new context, ``goto`` until ``load``)
and of a warm one (the same page again in that context), and the CPU time of this process tree
(the proxy, the Playwright driver, Chromium) per cold+warm pair.

Pages, served on loopback from a thread of their own: a document alone, and a page with 40
same-origin subresources (a stylesheet, 3 scripts, 36 images). Loopback has no latency, which
hides what a new connection costs on a real network; so each is also measured behind a simulated
link (``--rtt`` ms, default 20): each new TCP connection waits one round trip before it is made,
and bytes take half a round trip each way. This matters here: Playwright's fetches (the guard's)
keep connections alive when they go straight out, and open a new tunnel per request through a
proxy.

Usage: .venv/bin/python bench/choke_point.py [--rounds 15] [--rtt 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import threading
import time
from collections.abc import Mapping

import psutil
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from smooth_agents.local.browser.chromium import BrowserProvider
from smooth_agents.local.browser.proxy import ProxyGate
from smooth_agents.local.browser.session import BrowserSession
from smooth_agents.local.browser.url_policy import UrlPolicy
from smooth_agents.local.server import free_port

MODES = ("open", "guard only", "guard+proxy")
IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>'


def page_app() -> Starlette:
    async def document(request: Request) -> Response:
        paragraphs = "".join(f"<p>Paragraph {i} of a page about nothing much.</p>" for i in range(50))
        return HTMLResponse(f"<html><head><title>Document</title></head><body>{paragraphs}</body></html>")

    async def rich(request: Request) -> Response:
        head = '<link rel="stylesheet" href="/asset/style.css">' + "".join(
            f'<script src="/asset/script{i}.js"></script>' for i in range(3)
        )
        images = "".join(f'<img src="/asset/image{i}.svg" alt="">' for i in range(36))
        return HTMLResponse(f"<html><head><title>Rich</title>{head}</head><body>{images}</body></html>")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name.endswith(".css"):
            return Response("img { margin: 2px }", media_type="text/css")
        if name.endswith(".js"):
            script = f"window.loaded = (window.loaded || 0) + 1; // {name}"
            return Response(script, media_type="text/javascript")
        return Response(IMAGE, media_type="image/svg+xml")

    return Starlette(
        routes=[Route("/document", document), Route("/rich", rich), Route("/asset/{name}", asset)]
    )


async def slow_link(listen_port: int, target_port: int, rtt: float) -> asyncio.Server:
    """A TCP relay to ``target_port`` that behaves like a link with round trip ``rtt``."""

    async def carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def stamp() -> None:
            while chunk := await reader.read(65536):
                queue.put_nowait((time.monotonic() + rtt / 2, chunk))
            queue.put_nowait((time.monotonic() + rtt / 2, b""))

        stamping = asyncio.ensure_future(stamp())
        try:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        finally:
            stamping.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await stamping
            writer.close()

    async def accept(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(rtt)  # the handshake
        try:
            host_reader, host_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            carry(client_reader, host_writer), carry(host_reader, client_writer), return_exceptions=True
        )

    return await asyncio.start_server(accept, "127.0.0.1", listen_port)


class PageServer:
    """The pages on a loopback port, and behind a slow link on another, in a thread of their own
    (a host apart from the server's loop, as a real one is)."""

    def __init__(self, rtt: float) -> None:
        self.port, self.slow_port = free_port(), free_port()
        self._rtt = rtt
        self._ready = threading.Event()
        self._server = uvicorn.Server(
            uvicorn.Config(page_app(), host="127.0.0.1", port=self.port, log_level="error")
        )
        threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True).start()
        self._ready.wait(30)
        while not self._server.started:
            time.sleep(0.01)

    async def _serve(self) -> None:
        link = await slow_link(self.slow_port, self.port, self._rtt)
        self._ready.set()
        async with link:
            await self._server.serve()

    def stop(self) -> None:
        self._server.should_exit = True


class BenchProvider(BrowserProvider):
    """The local browser, with the proxy gate switched off for the "guard only" loads."""

    gated = True

    async def network_gate(self, policy: UrlPolicy, proxy: Mapping[str, str] | None) -> ProxyGate | None:
        return await super().network_gate(policy, proxy) if self.gated else None


def tree_cpu() -> float:
    """CPU seconds of this process and all its descendants, the reaped ones included (a
    context's renderers exit with it)."""
    total = 0.0
    root = psutil.Process()
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


async def load(provider: BenchProvider, mode: str, url: str, origin: str) -> tuple[float, float, float]:
    """Cold and warm load times (ms), and the CPU seconds of both."""
    provider.gated = mode == "guard+proxy"
    policy = UrlPolicy(None if mode == "open" else [f"{origin}/**"])
    cpu = tree_cpu()
    session = await BrowserSession.open(provider, device="desktop", policy=policy, action_timeout=60)
    try:
        started = time.perf_counter()
        await session.goto(url)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        await session.goto(url)
        warm = time.perf_counter() - started
    finally:
        await session.close()
    return cold * 1000, warm * 1000, tree_cpu() - cpu


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--rtt", type=float, default=20.0, help="the simulated link's round trip, ms")
    args = parser.parse_args()
    pages = PageServer(args.rtt / 1000)
    provider = BenchProvider()
    try:
        links = {"loopback": pages.port, f"{args.rtt:g} ms link": pages.slow_port}
        for port in links.values():  # the browser started and every path warmed up
            for mode in MODES:
                await load(provider, mode, f"http://127.0.0.1:{port}/rich", f"http://127.0.0.1:{port}")
        print(f"{args.rounds} loads per cell, each in a new context: ms median / p90, and CPU per cold+warm")
        print(f"{'':34}" + "".join(f"{mode:>28}" for mode in MODES))
        for link, port in links.items():
            origin = f"http://127.0.0.1:{port}"
            for page in ("document", "rich"):
                results: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in MODES}
                for _ in range(args.rounds):
                    for mode in MODES:
                        results[mode].append(await load(provider, mode, f"{origin}/{page}", origin))
                kind = "document alone" if page == "document" else "page + 40 subresources"
                for index, what in ((0, "cold"), (1, "warm")):
                    cells = []
                    for mode in MODES:
                        times = [result[index] for result in results[mode]]
                        cells.append(f"{statistics.median(times):>7.0f} / {p90(times):>5.0f} ms")
                    print(f"{link + ', ' + kind + ', ' + what:34}" + "".join(f"{cell:>28}" for cell in cells))
                cpu = [statistics.median(result[2] for result in results[mode]) * 1000 for mode in MODES]
                print(f"{'':34}" + "".join(f"{f'{ms:.0f} ms CPU':>28}" for ms in cpu))
    finally:
        await provider.aclose()
        pages.stop()


if __name__ == "__main__":
    asyncio.run(main())
