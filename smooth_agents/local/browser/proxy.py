"""The choke point of a task's browser network: a forward proxy of our own, on loopback.

A context whose task has allowed_urls is created with a gate of its own, a loopback port of this
proxy, and Chromium (and Playwright's fetches for that context) then sends every connection
through it: navigations, subresources, preconnects, WebSockets, workers, and WebRTC's TURN over
TCP (the browser is launched so that WebRTC sends no UDP that does not pass a proxy, see
chromium.py). The port a connection arrives on says which task's policy judges it.

A tunnel (CONNECT: https, wss, and every fetch Playwright makes) is judged by its host and port,
all that a proxy sees of it; a plain-http request by its whole URL. What the policy refuses is
answered 403 before any socket to that host opens, and names are resolved here, never by
Chromium, so a blocked host's name is not even looked up. The guard (guard.py) still judges each
request first and gives pages and logs their messages; the guarantee is here.

A task's own proxy (its ``proxy_server``) becomes the upstream: allowed connections go on
through it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .url_policy import UrlPolicy

log = logging.getLogger("smooth_agents.local.proxy")

# How long a client may take to send a request head, and a host (or the upstream) to accept.
HEAD_TIMEOUT = 30.0
CONNECT_TIMEOUT = 30.0
# How long a plain-http request's body may take to arrive once its head has.
BODY_TIMEOUT = 300.0
# The longest request or response head read (asyncio's stream limit: a longer one is refused).
MAX_HEAD_BYTES = 64 * 1024
_CHUNK = 64 * 1024
# Headers about one hop, not the request: never passed on.
_HOP_HEADERS = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization", b"te", b"trailer", b"upgrade"}
)

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class ProxyRefused(Exception):
    """The proxy answers the client with ``status`` and closes the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Upstream:
    """A proxy the task asked to go through (its ``proxy_server``): allowed connections go on
    through it. HTTP and HTTPS proxies (with basic credentials) and SOCKS5 ones (without)."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Upstream:
        """From Playwright-style proxy settings (``server``, ``username``, ``password``); a
        server without a scheme is an HTTP proxy, as Playwright reads it."""
        server = settings["server"].strip()
        parts = urlsplit(server if "://" in server else f"http://{server}")
        scheme = {"socks5h": "socks5"}.get(parts.scheme.lower(), parts.scheme.lower())
        if scheme not in ("http", "https", "socks5") or not parts.hostname:
            raise ValueError(
                f"The proxy {server!r} cannot carry a task with allowed_urls: give an http://, "
                "https:// or socks5:// proxy (host and port)."
            )
        port = parts.port or {"http": 80, "https": 443, "socks5": 1080}[scheme]
        username = settings.get("username") or parts.username
        password = settings.get("password") or parts.password
        return cls(scheme, parts.hostname, port, username, password)

    def authorization(self) -> bytes:
        """The Proxy-Authorization header line for an HTTP(S) proxy, or nothing."""
        if not self.username:
            return b""
        token = base64.b64encode(f"{self.username}:{self.password or ''}".encode())
        return b"Proxy-Authorization: Basic " + token + b"\r\n"

    async def connect(self) -> Streams:
        tls = ssl.create_default_context() if self.scheme == "https" else None
        return await asyncio.open_connection(self.host, self.port, ssl=tls, limit=MAX_HEAD_BYTES)

    async def tunnel(self, host: str, port: int) -> Streams:
        """A byte stream to ``host:port`` through this proxy."""
        reader, writer = await self.connect()
        try:
            if self.scheme == "socks5":
                await _socks5_handshake(reader, writer, host, port)
            else:
                authority = _authority(host, port).encode()
                writer.write(
                    b"CONNECT " + authority + b" HTTP/1.1\r\nHost: " + authority + b"\r\n"
                    + self.authorization() + b"\r\n"
                )  # fmt: skip
                status = _status_code(await reader.readuntil(b"\r\n\r\n"))
                if not 200 <= status < 300:
                    raise ProxyRefused(502, f"the task's proxy answered {status} to CONNECT {host}:{port}")
        except BaseException:
            writer.close()
            raise
        return reader, writer


class ProxyGate:
    """One loopback port of the proxy, bound to one task's policy (and its own proxy, if any)."""

    def __init__(self, policy: UrlPolicy, upstream: Upstream | None = None) -> None:
        self.policy = policy
        self.upstream = upstream
        self.refused: list[str] = []  # what was refused, "host:port" or the URL without its query
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()  # both ends of every connection in flight

    @classmethod
    async def open(cls, policy: UrlPolicy, upstream: Upstream | None = None) -> ProxyGate:
        gate = cls(policy, upstream)
        gate._server = await asyncio.start_server(gate._serve, "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
        return gate

    @property
    def port(self) -> int:
        assert self._server is not None, "the gate is not open"
        return int(self._server.sockets[0].getsockname()[1])

    def proxy_settings(self) -> dict[str, str]:
        """What a Playwright context is created with to send everything through this gate.

        ``<-loopback>`` takes loopback hosts off Chromium's implicit bypass list: they pass the
        gate too (Playwright adds it by default, unless told not to by its environment)."""
        return {"server": f"http://127.0.0.1:{self.port}", "bypass": "<-loopback>"}

    def close(self) -> None:
        """Stop listening and cut every connection still open (the context is gone): their
        handlers end on the error that follows."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.transport.abort()

    def _refuse(self, what: str) -> ProxyRefused:
        self.refused.append(what)
        log.info("connection refused by allowed_urls: %s", what)
        return ProxyRefused(403, "blocked by this task's allowed_urls")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
            method, target, headers = _request(head)
            if method == b"CONNECT":
                await self._tunnel(target, reader, writer)
            else:
                await self._forward(method, target, headers, reader, writer)
        except ProxyRefused as refused:
            await _answer(writer, refused.status, refused.reason)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            await _answer(writer, 400, "bad request")
        except TimeoutError:
            await _answer(writer, 504, "timed out")
        except OSError as exc:  # the host (or the task's proxy) cannot be reached
            await _answer(writer, 502, f"cannot connect: {exc.strerror or type(exc).__name__}")
        except Exception:  # a fault here must not reach the loop: the other connections go on
            log.exception("proxy connection failed")
            await _answer(writer, 500, "proxy error")
        finally:
            self._open.discard(writer)
            writer.close()

    async def _tunnel(
        self, target: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = _host_port(target.decode("ascii"))
        if not self.policy.allows_host(host, port):
            raise self._refuse(_authority(host, port))
        host_reader, host_writer = await asyncio.wait_for(self._dial(host, port), CONNECT_TIMEOUT)
        self._open.add(host_writer)
        try:
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await _relay(reader, writer, host_reader, host_writer)
        finally:
            self._open.discard(host_writer)

    async def _forward(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        """One plain-http request (absolute-form), judged by its whole URL, then the connection
        ends: a later request on it, for another host, must never reach this one."""
        url = target.decode("ascii")
        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise ProxyRefused(400, "only http:// requests and CONNECT tunnels are proxied")
        if not self.policy.allows(url):
            raise self._refuse(parts._replace(query="", fragment="").geturl())
        names = {name.lower() for name, _ in headers}
        if b"transfer-encoding" in names:
            raise ProxyRefused(501, "request bodies must have a Content-Length")
        length = next((int(value) for name, value in headers if name.lower() == b"content-length"), 0)
        if length < 0:
            raise ValueError(f"a negative Content-Length: {length}")
        kept = b"".join(
            name + b": " + value + b"\r\n" for name, value in headers if name.lower() not in _HOP_HEADERS
        )
        host, port = parts.hostname, parts.port or 80
        if self.upstream is not None and self.upstream.scheme != "socks5":
            # An HTTP proxy takes the request as it came (absolute-form), with our credentials.
            upstream = await asyncio.wait_for(self.upstream.connect(), CONNECT_TIMEOUT)
            line = method + b" " + target + b" HTTP/1.1\r\n"
            kept += self.upstream.authorization()
        else:
            upstream = await asyncio.wait_for(self._dial(host, port), CONNECT_TIMEOUT)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            line = method + b" " + path.encode("ascii") + b" HTTP/1.1\r\n"
        upstream_reader, upstream_writer = upstream
        self._open.add(upstream_writer)
        try:
            upstream_writer.write(line + kept + b"Connection: close\r\n\r\n")
            await asyncio.wait_for(_copy_exactly(reader, upstream_writer, length), BODY_TIMEOUT)
            response = await upstream_reader.readuntil(b"\r\n\r\n")
            writer.write(_closing(response))
            with contextlib.suppress(OSError):  # the answer has begun: no other can be given
                await _copy(upstream_reader, writer)
        finally:
            self._open.discard(upstream_writer)
            upstream_writer.close()

    async def _dial(self, host: str, port: int) -> Streams:
        if self.upstream is not None:
            return await self.upstream.tunnel(host, port)
        return await asyncio.open_connection(host, port, limit=MAX_HEAD_BYTES)


def _request(head: bytes) -> tuple[bytes, bytes, list[tuple[bytes, bytes]]]:
    """The method, target and headers of a request head."""
    line, *rest = head[:-4].split(b"\r\n")
    method, target, version = line.split(b" ")
    if not version.startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1 request: {line!r}")
    headers = []
    for field in rest:
        name, _, value = field.partition(b":")
        headers.append((name.strip(), value.strip()))
    return method, target, headers


def _status_code(head: bytes) -> int:
    return int(head.partition(b" ")[2][:3])  # a ValueError for what is no status line


def _closing(head: bytes) -> bytes:
    """A response head passed on with ``Connection: close``: the client must not send another
    request down this connection."""
    line, *rest = head[:-4].split(b"\r\n")
    kept = [field for field in rest if field.partition(b":")[0].strip().lower() not in _HOP_HEADERS]
    return b"\r\n".join([line, *kept, b"Connection: close"]) + b"\r\n\r\n"


def _host_port(authority: str) -> tuple[str, int]:
    """The host (lowercase, IPv6 without brackets) and port of a CONNECT target."""
    parts = urlsplit(f"//{authority}")
    if not parts.hostname or parts.port is None or not 0 < parts.port < 65536:
        raise ValueError(f"not a host and port: {authority!r}")
    return parts.hostname, parts.port


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    text = reason.encode()
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\n".encode()
        + b"Content-Type: text/plain\r\nConnection: close\r\nContent-Length: "
        + str(len(text)).encode() + b"\r\n\r\n" + text
    )  # fmt: skip
    with contextlib.suppress(OSError):
        await writer.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while chunk := await reader.read(_CHUNK):
        writer.write(chunk)
        await writer.drain()


async def _copy_exactly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> None:
    while size > 0:
        chunk = await reader.read(min(size, _CHUNK))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", size)
        writer.write(chunk)
        await writer.drain()
        size -= len(chunk)


async def _relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    host_reader: asyncio.StreamReader,
    host_writer: asyncio.StreamWriter,
) -> None:
    """Bytes both ways until either side ends; then both are closed."""
    directions = {
        asyncio.ensure_future(_copy(client_reader, host_writer)),
        asyncio.ensure_future(_copy(host_reader, client_writer)),
    }
    try:
        await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for direction in directions:
            direction.cancel()
        await asyncio.gather(*directions, return_exceptions=True)
        host_writer.close()


async def _socks5_handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
) -> None:
    """RFC 1928, no authentication (as Chromium offers): the name is sent for the proxy to
    resolve."""
    writer.write(b"\x05\x01\x00")
    if await reader.readexactly(2) != b"\x05\x00":
        raise ProxyRefused(502, "the task's SOCKS5 proxy wants an authentication we do not offer")
    try:
        address = ipaddress.ip_address(host)
        kind, packed = (b"\x01" if address.version == 4 else b"\x04"), address.packed
    except ValueError:
        name = host.encode("idna")
        kind, packed = b"\x03", bytes([len(name)]) + name
    writer.write(b"\x05\x01\x00" + kind + packed + port.to_bytes(2, "big"))
    reply = await reader.readexactly(4)
    if reply[1] != 0:
        raise ProxyRefused(502, f"the task's SOCKS5 proxy refused {host}:{port} (code {reply[1]})")
    bound = {1: 4, 4: 16}.get(reply[3])
    await reader.readexactly((bound if bound else (await reader.readexactly(1))[0]) + 2)
