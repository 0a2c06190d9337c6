"""This user's shared local Smooth server: one server process on this machine for all of the user's
short-lived processes (the client's side; the server's is ``smooth_agents.local.shared``).

A host that starts a process per tool call (langchain-mcp-adapters' default mode) would otherwise
start a browser per call and lose its sessions between calls. The first process starts the server
(a process of its own, detached), later processes find it through a state file and pay only their
own start, and it ends after an idle time. Sessions live in it, across those processes.

Who can use it. It listens on 127.0.0.1, where every user of the machine can open a connection, so
every API request must carry its key: a random secret that only this user (and root) can read,
kept in a state file of mode 0600 in a folder of mode 0700, both checked before they are trusted.
Before sending the key, a process has the server prove that it holds it (the key proof of
``protocol``): a program of another user that took the port of a server that ended cannot answer,
and learns nothing from the question. Every process of this user can read the state file, so they
share the server, and its sessions, as they share this user's files.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import os
import secrets
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ._version import __version__
from .errors import SmoothError
from .private_folder import FolderNotPrivate
from .private_folder import private_folder as ensure_private
from .protocol import KEY_PROOF_PATH, key_proof

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger("smooth_agents.shared_server")

SERVER_MODULE = "smooth_agents.local.shared"
# How long a server may take to listen (it loads the server stack; a first run compiles it).
START_TIMEOUT = 60.0
# How long a server named in a state file may take to prove it holds its key.
PROOF_TIMEOUT = 3.0
DEFAULT_IDLE_TIMEOUT = 600.0
# What a shared server is started with comes from these variables of its starter's environment;
# they pick which shared server a process uses (servers started otherwise are other servers).
_SERVER_VARIABLES = (
    "SMOOTH_LOCAL_MODEL",
    "SMOOTH_LOCAL_BROWSER",
    "SMOOTH_LOCAL_DATA_DIR",
    "SMOOTH_LOCAL_RECORDING",
)


class SharedServerUnavailable(SmoothError):
    """A shared local server cannot be used here (the platform, or a folder not private to this
    user); the reason says which."""


@dataclass(frozen=True)
class SharedEndpoint:
    """Where the shared server answers: 127.0.0.1:``port``, with ``api_key``."""

    port: int
    api_key: str = field(repr=False)
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def transport(self) -> httpx2.AsyncHTTPTransport:
        """An ``httpx2`` transport for plain HTTP on loopback: no certificate store loaded (tens of
        milliseconds at a per-call process's first request) and no proxy from the environment."""
        import httpx2

        return httpx2.AsyncHTTPTransport(
            verify=False, limits=httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        )


def shared_folder() -> Path:
    """Where shared servers' state files live: SMOOTH_LOCAL_SHARED_DIR, else the session's runtime
    folder (XDG_RUNTIME_DIR, private to the user and emptied at log-out), else
    ~/.smooth-agents/shared."""
    configured = os.environ.get("SMOOTH_LOCAL_SHARED_DIR", "").strip()
    if configured:
        return Path(configured)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "smooth-agents"
    return Path.home() / ".smooth-agents" / "shared"


class SharedLocalServer:
    """A handle on this user's shared server: ``find_or_start()`` returns at once (the search, and
    a start when none runs, go on on a thread), ``await endpoint()`` once it answers."""

    def __init__(self, found: concurrent.futures.Future[SharedEndpoint]) -> None:
        self._found = found

    @classmethod
    def find_or_start(
        cls,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        session_idle_timeout: float | None = None,
        model: str | None = None,
        log_level: str = "warning",
        folder: Path | None = None,
    ) -> SharedLocalServer:
        """Find this user's shared server started with these settings, or start it. Raises
        ``SharedServerUnavailable`` when none can be used here."""
        if sys.platform == "win32":
            raise SharedServerUnavailable("a shared local server needs a POSIX system (Linux, macOS)")
        place = SharedPlace.for_settings(private_folder(folder or shared_folder()), model)
        command = [sys.executable, "-m", SERVER_MODULE, "--log-level", log_level]
        command += ["--state-file", str(place.state_file), "--lock-file", str(place.lock_file)]
        command += ["--idle-timeout", str(idle_timeout)]
        if model:
            command += ["--model", model]
        if session_idle_timeout:
            command += ["--session-idle-timeout", str(session_idle_timeout)]
        found: concurrent.futures.Future[SharedEndpoint] = concurrent.futures.Future()

        def search() -> None:
            try:
                found.set_result(place.find_or_start(command))
            except BaseException as exc:  # handed to whoever awaits the endpoint
                found.set_exception(exc)

        # A daemon thread: a server that hangs while starting must not hold this process at its end.
        threading.Thread(target=search, name="smooth-shared-server", daemon=True).start()
        return cls(found)

    async def endpoint(self) -> SharedEndpoint:
        """Where the server answers, once it does."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._found), START_TIMEOUT + PROOF_TIMEOUT)
        except TimeoutError:
            raise SmoothError(f"The shared local server did not start within {START_TIMEOUT:g} s.") from None


def private_folder(folder: Path) -> Path:
    """``folder``, made if missing, once it is sure to be this user's alone (mode 0700, owned by
    this user, not a symbolic link); raises ``SharedServerUnavailable`` otherwise."""
    try:
        return ensure_private(folder)
    except FolderNotPrivate as exc:
        raise SharedServerUnavailable(str(exc)) from None


class SharedPlace:
    """The state file of one shared server, its lock and its log."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.lock_file = state_file.with_suffix(".lock")
        self.log_file = state_file.with_suffix(".log")

    @classmethod
    def for_settings(cls, folder: Path, model: str | None) -> SharedPlace:
        """The place of the server this installation starts with these settings: a server started
        otherwise (another version, another model or browser) is another server."""
        settings = {name: os.environ.get(name, "") for name in _SERVER_VARIABLES}
        identity = {"version": __version__, "python": sys.executable, "model": model or "", **settings}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        return cls(folder / f"server-{digest}.json")

    def find_or_start(self, command: list[str]) -> SharedEndpoint:
        found = self.find()
        if found is not None:
            return found
        with self._locked():
            found = self.find()  # another process may have started one meanwhile
            if found is not None:
                return found
            return self._start(command)

    def find(self) -> SharedEndpoint | None:
        """The server the state file names, once it has proved it holds the key."""
        state = self._read_state()
        if state is None:
            return None
        try:
            port, pid, key = int(state["port"]), int(state["pid"]), str(state["key"])
        except (KeyError, TypeError, ValueError):
            return None
        if not proves_key(port, key):
            log.info("the shared local server of %s does not answer as itself: not used", self.state_file)
            return None
        log.info("shared local server found on 127.0.0.1:%d (pid %d)", port, pid)
        return SharedEndpoint(port, key, pid)

    def _read_state(self) -> dict[str, Any] | None:
        try:
            descriptor = os.open(self.state_file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(descriptor, "rb") as opened:
            status = os.fstat(opened.fileno())
            if status.st_uid != os.getuid() or stat.S_IMODE(status.st_mode) & 0o077:
                log.warning("%s is not private to this user: ignored (and replaced)", self.state_file)
                return None
            try:
                state = json.loads(opened.read(65_536))
            except ValueError:
                return None
        return state if isinstance(state, dict) else None

    def _start(self, command: list[str]) -> SharedEndpoint:
        key = secrets.token_urlsafe(32)
        deadline = time.monotonic() + START_TIMEOUT
        log_descriptor = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # The server forks at once: its first process ends here and now, and the server lives
            # on in a session of its own, its output in the log file.
            starter = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_descriptor,
                cwd=self.state_file.parent,
                close_fds=True,
            )
        finally:
            os.close(log_descriptor)
        assert starter.stdin is not None
        assert starter.stdout is not None
        with starter.stdout:
            try:
                starter.stdin.write(key.encode() + b"\n")
                starter.stdin.close()
            except OSError:
                pass  # it ended already: the ready line will not come, and says so
            starter.wait(START_TIMEOUT)
            port, pid = self._read_ready(starter.stdout, deadline)
        self._write_state({"pid": pid, "port": port, "key": key, "version": __version__})
        log.info("shared local server started on 127.0.0.1:%d (pid %d)", port, pid)
        return SharedEndpoint(port, key, pid)

    def _read_ready(self, stdout: IO[bytes], deadline: float) -> tuple[int, int]:
        """The port and pid of the server's one ready line."""
        import select

        readable, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            raise SmoothError(
                f"The shared local server did not start within {START_TIMEOUT:g} s; see {self.log_file}."
            )
        try:
            ready = json.loads(stdout.readline())
            return int(ready["port"]), int(ready["pid"])
        except (ValueError, KeyError, TypeError):
            raise SmoothError(
                f"The shared local server ended before it was ready; see {self.log_file}."
            ) from None

    def _write_state(self, state: dict[str, Any]) -> None:
        """Written whole or not at all: a temporary file of mode 0600, renamed over the old one."""
        temporary = self.state_file.with_name(f".{self.state_file.name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as written:
            json.dump(state, written)
        os.replace(temporary, self.state_file)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The starters' lock: one process starts the server, the others wait and find it."""
        import fcntl

        descriptor = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise SmoothError(
                            f"Another process has been starting the shared local server for "
                            f"{START_TIMEOUT:g} s ({self.lock_file}); see {self.log_file}."
                        ) from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(descriptor)  # and the lock with it


def proves_key(port: int, key: str) -> bool:
    """Whether the server on 127.0.0.1:``port`` holds ``key``; the key itself is not sent."""
    nonce = secrets.token_hex(16)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROOF_TIMEOUT)
    try:
        connection.request("GET", f"{KEY_PROOF_PATH}?nonce={nonce}")
        answer = connection.getresponse()
        body = answer.read(4096)
        if answer.status != 200:
            return False
        proof = json.loads(body).get("proof")
        return isinstance(proof, str) and hmac.compare_digest(proof, key_proof(key, nonce))
    except (OSError, ValueError, AttributeError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def stop_shared(folder: Path | None = None, timeout: float = 20.0) -> int:
    """End this user's shared servers whose state files ``folder`` holds: SIGTERM to each that
    proves its key, then wait until it no longer answers. How many were ended. For tests,
    benchmarks, and a user who wants the browser gone now."""
    import signal

    ended = 0
    for state_file in sorted((folder or shared_folder()).glob("server-*.json")):
        found = SharedPlace(state_file).find()
        if found is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(found.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process_alive(found.pid):
            time.sleep(0.05)
        ended += 1
    return ended


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: it runs
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): what kill said
        return True
