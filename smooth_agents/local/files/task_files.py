"""What a task leaves behind: the files its page downloaded, its agent's screenshots and PDFs,
and its video recording, kept in a folder of its own and served after the task ends.

The downloads are served as one zip archive at the task's ``downloads_url``, the video at its
``recording_url``; both links carry a per-task token (like the live view) instead of the API key,
so a person can open them in a browser. Everything is bounded (``max_download_bytes`` for the
downloads, screenshots and PDFs together) and deleted with the task: when finished tasks are
forgotten, and at shutdown (tasks live in memory: their files would be reachable by no one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from playwright.async_api import Download
from playwright.async_api import Error as PlaywrightError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import ActionFailed
from .links import task_of_link

log = logging.getLogger("smooth_agents.local")

ARCHIVE_NAME = "downloads.zip"
RECORDING_NAME = "recording.webm"
# Kinds already compressed: stored in the archive as they are (deflating them costs CPU for nothing).
_COMPRESSED = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".zip", ".gz", ".webm", ".mp4"})
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
# Device names Windows keeps, whatever follows their first dot (``nul.txt`` is the device too).
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{kind}{digit}" for kind in ("com", "lpt") for digit in "0123456789\u00b9\u00b2\u00b3"}
)
# Of UTF-8: under every file system's 255 bytes, with room for " (2)" and the like.
_MAX_NAME_BYTES = 150
# How often the downloads in flight are measured (see ``TaskFiles._watch``).
WATCH_INTERVAL = 0.005

# Reports one download (saved or refused) as an event of the task.
Reporter = Callable[[dict[str, Any]], object]


def safe_name(name: str, fallback: str = "download") -> str:
    """A file name that stays inside its folder and unpacks on every system: no path, control or
    reserved character, no leading or trailing dot or space, no Windows device name (``CON``,
    ``nul.txt`` become ``_CON``, ``_nul.txt``), composed as macOS stores names, and at most 150
    bytes (a long one keeps its extension)."""
    cleaned = _shortened(_UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" ."))
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].rstrip(" ").lower() in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned


def _shortened(name: str) -> str:
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix.encode()) > 16:  # no extension worth keeping
        stem, suffix = name, ""
    room = _MAX_NAME_BYTES - len(suffix.encode()) - len(dot)
    # Cut on bytes, then drop a character the cut split in two.
    kept = stem.encode()[:room].decode(errors="ignore").rstrip(" .")
    return f"{kept}.{suffix}" if suffix else kept


class TaskFiles:
    """One task's folder: ``downloads/`` while it runs, then ``downloads.zip`` and the recording.

    Created lazily: a task that downloads nothing and records nothing writes nothing.
    """

    def __init__(self, root: Path, *, max_bytes: int, record: bool, report: Reporter | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.record = record
        self.report = report
        self.token = secrets.token_urlsafe(18)
        self.used = 0
        self.saved: list[str] = []
        self.refused: list[str] = []
        # Set once the task's browser is gone and the archive and video are in place.
        self.ready = False
        self.claimed = False  # someone is finishing them (only one may)
        # What the task's agent has not been told yet of the page's downloads (by download: the
        # latest news of each), and the downloads still in flight (see ``news``).
        self._count = 0
        self._names: list[str] = []
        self._given: set[str] = set()  # every name _target gave (casefolded)
        self._untold: dict[int, str] = {}
        self._in_flight: dict[int, str] = {}
        # The downloads arriving, in the order they started, measured against the bytes the task
        # has left by one watcher while any arrives (see ``_watch``).
        self._arriving: dict[int, _Arrival] = {}
        self._watcher: asyncio.Task[None] | None = None

    @property
    def started(self) -> int:
        """How many downloads the task's pages have started so far (kept, refused or arriving)."""
        return self._count

    @property
    def started_names(self) -> list[str]:
        """The names of the downloads started so far, in the order they started."""
        return list(self._names)

    @property
    def arriving(self) -> list[str]:
        """The names of the downloads started and not yet kept or refused."""
        return list(self._in_flight.values())

    @property
    def downloads_dir(self) -> Path:
        return self.root / "downloads"

    @property
    def archive(self) -> Path:
        return self.root / ARCHIVE_NAME

    @property
    def recording(self) -> Path:
        return self.root / RECORDING_NAME

    @property
    def has_archive(self) -> bool:
        return self.ready and self.archive.is_file()

    @property
    def has_recording(self) -> bool:
        return self.ready and self.recording.is_file()

    # -- while the task runs ----------------------------------------------------------------
    def _target(self, name: str) -> Path:
        """A new path in the downloads folder for ``name`` (``report (2).pdf`` when taken, also
        by a name differing only in case: unpacked where case does not count, one would replace
        the other)."""
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        # The files written, and the names given to downloads still arriving (their files come
        # when they are whole: two arriving at once must not get one name).
        taken = {path.name.casefold() for path in self.downloads_dir.iterdir()} | self._given
        base = safe_name(name)
        stem, dot, suffix = base.rpartition(".")
        if not dot or not stem:
            stem, suffix = base, ""
        candidate, count = base, 1
        while candidate.casefold() in taken:
            count += 1
            candidate = f"{stem} ({count}).{suffix}" if suffix else f"{stem} ({count})"
        self._given.add(candidate.casefold())
        return self.downloads_dir / candidate

    def _full(self, size: int) -> str | None:
        if self.used + size <= self.max_bytes:
            return None
        return (
            f"the task's downloads would pass {self.max_bytes:,} bytes (max_download_bytes; "
            f"{self.used:,} used, this one is {size:,})"
        )

    def add(self, name: str, content: bytes) -> str:
        """Keep ``content`` (a screenshot, a PDF) among the downloads; its saved name. Past the
        bound it is refused (``ActionFailed``)."""
        problem = self._full(len(content))
        if problem is not None:
            self.refused.append(name)
            raise ActionFailed(f"Not saved: {problem}.")
        target = self._target(name)
        target.write_bytes(content)
        self.used += len(content)
        self.saved.append(target.name)
        return target.name

    @property
    def started_untold(self) -> bool:
        """True when a download in flight started since the agent was last told."""
        return any(key in self._untold for key in self._in_flight)

    def news(self) -> list[str]:
        """What became of the page's downloads since the agent was last told: each started,
        finished (its name and size) or refused one once, and those still in flight."""
        told = list(self._untold.values())
        told += [
            f"{name}: still downloading" for key, name in self._in_flight.items() if key not in self._untold
        ]
        self._untold.clear()
        return told

    async def collect(self, download: Download) -> None:
        """Keep one file the page downloaded, or refuse it past the bound; either way the task's
        events say so. A download is measured while it arrives and cancelled once it passes the
        bytes the task has left (see ``_watch``)."""
        name = safe_name(download.suggested_filename)
        payload: dict[str, Any] = {"file": name, "url": download.url[:500]}
        self._count += 1
        self._names.append(name)
        key = self._count
        self._in_flight[key] = name
        self._untold[key] = f"{name}: download started"
        try:
            await self._collect(download, name, payload, key)
        finally:
            self._in_flight.pop(key, None)

    async def _collect(self, download: Download, name: str, payload: dict[str, Any], key: int) -> None:
        try:
            if self.used >= self.max_bytes:
                await download.cancel()
                self._refuse(payload, self._full(1) or "the downloads are full", key)
                return
            problem = await self._arrive(download, key)
            if problem is not None:
                self._refuse(payload, problem, key)
                return
            size = await _size_of(download)
            if size is not None and (problem := self._full(size)) is not None:
                self._refuse(payload, problem, key)
                return
            target = self._target(name)
            await download.save_as(target)
            size = _size(target)
            if (problem := self._full(size)) is not None:
                target.unlink()
                self._refuse(payload, problem, key)
                return
            self.used += size
            self._arriving.pop(key, None)  # counted in ``used`` from now on
            self.saved.append(target.name)
            self._untold[key] = (
                f"{target.name}: download finished, {size:,} bytes, kept in the task's downloads"
            )
            self._say({**payload, "file": target.name, "bytes": size, "saved": True})
        except PlaywrightError as exc:  # the context closed under it
            self._refuse(payload, f"the download did not finish ({str(exc).splitlines()[0]})", key)
        except asyncio.CancelledError:
            self._refuse(payload, "the task ended before the download finished", key)
            raise
        finally:
            self._arriving.pop(key, None)
            with contextlib.suppress(PlaywrightError):
                await download.delete()  # the browser's own copy

    async def _arrive(self, download: Download, key: int) -> str | None:
        """Wait for ``download`` to end, measured while it arrives: why it is not kept (it failed,
        or it passed the bytes the task has left and was cancelled), None once it is whole."""
        files = _arriving_files(download)
        if files is not None:
            self._arriving[key] = _Arrival(download, files)
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.get_running_loop().create_task(self._watch())
        failure = await download.failure()
        # Whole, it stays counted here until it is kept (in ``used`` then) or refused.
        arrival = self._arriving.get(key)
        if arrival is not None and arrival.cut is not None:
            return arrival.cut
        return None if failure is None else f"the download failed ({failure})"

    async def _watch(self) -> None:
        """Cancel each download in flight that takes the task past its bound (the later ones go
        first: the earlier keep what they had).

        The file the browser writes is measured, every few milliseconds. Chromium's own progress
        events (CDP ``Browser.downloadProgress``, which Playwright listens to, and
        ``Page.downloadProgress``) come at most every 500 ms, and for a quick download only at its
        start and end: 50 MB over loopback arrived whole between two of them. The file grows as
        the bytes arrive, so one stat per download in flight is cheap and close. What still lands
        past the bound is what arrives before Playwright tells of the download and while the
        cancel travels to the browser (milliseconds each, more on a busy machine). Measured with
        a 1 MB bound (bench/download_bound.py): at most 1.1 MB at 6 to 13 MB/s; at loopback speed
        (some 300 MB/s) a median of 4 to 6 MB, up to 25 MB, and 80 MB with the machine's CPUs
        loaded six times over, of 200 MB offered. A download cut is not counted further: the
        browser deletes its file."""
        while self._arriving:
            left = self.max_bytes - self.used
            for arrival in list(self._arriving.values()):
                if arrival.cut is not None:
                    continue
                size = arrival.size()
                if size <= left:
                    left -= size
                    continue
                arrival.cut = (
                    f"cancelled while it arrived: it passed the {left:,} bytes the task had left "
                    f"of {self.max_bytes:,} (max_download_bytes)"
                )
                with contextlib.suppress(PlaywrightError):
                    await arrival.download.cancel()
            await asyncio.sleep(WATCH_INTERVAL)

    def _refuse(self, payload: dict[str, Any], reason: str, key: int) -> None:
        self._untold[key] = f"{payload['file']}: download not kept ({reason})"
        self.refused.append(str(payload["file"]))
        log.info("download %s refused: %s", payload["file"], reason)
        self._say({**payload, "saved": False, "reason": reason})

    def _say(self, payload: dict[str, Any]) -> None:
        if self.report is not None:
            self.report(payload)

    # -- at the end --------------------------------------------------------------------------
    async def finish(self) -> None:
        """The browser is closed (its video saved): pack the downloads into one archive."""
        try:
            await anyio.to_thread.run_sync(self._pack)
        except Exception:
            log.exception("could not finish the files of %s", self.root.name)
        finally:
            self.ready = True

    def _pack(self) -> None:
        with contextlib.suppress(OSError):
            if self.recording.stat().st_size == 0:
                self.recording.unlink()
        if not self.downloads_dir.is_dir():
            return
        files = sorted(p for p in self.downloads_dir.iterdir() if p.is_file())
        if files:
            partial = self.archive.with_suffix(".part")
            with zipfile.ZipFile(partial, "w") as archive:
                for path in files:
                    stored = path.suffix.lower() in _COMPRESSED
                    archive.write(
                        path, path.name, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                    )
            partial.replace(self.archive)
        shutil.rmtree(self.downloads_dir, ignore_errors=True)

    def delete(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class _Arrival:
    """A download in flight: where the browser writes it, and why it was cut, once it is."""

    download: Download
    files: tuple[Path, ...]
    cut: str | None = None

    def size(self) -> int:
        sizes = [0]
        for path in self.files:
            with contextlib.suppress(OSError):  # not there yet, or renamed meanwhile
                sizes.append(path.stat().st_size)
        return max(sizes)


def _arriving_files(download: Download) -> tuple[Path, ...] | None:
    """The files the browser writes ``download`` to while it arrives (None when not known).

    Playwright names a download's file in its artifacts folder before the first byte arrives,
    in a field its own ``Video.path()`` reads but ``Download`` does not show before the download
    is whole; Chromium writes to that name plus ``.crdownload``, then renames it. Without that
    field (another Playwright) a download is measured once whole; where the browser is remote the
    paths name no file here, and the bound applies to the copy kept (see ``_collect``)."""
    artifact = getattr(getattr(download, "_impl_obj", None), "_artifact", None)
    initializer = getattr(artifact, "_initializer", None)
    path = initializer.get("absolutePath") if isinstance(initializer, dict) else None
    if not isinstance(path, str) or not path:
        return None
    return (Path(path + ".crdownload"), Path(path))


async def _size_of(download: Download) -> int | None:
    """The finished download's size where the browser is local (None for a remote one: it is
    measured once copied)."""
    try:
        return _size(await download.path())
    except (PlaywrightError, OSError):
        return None


def _size(path: str | Path) -> int:
    return Path(path).stat().st_size


def sweep(root: Path, older_than: float) -> None:
    """Remove task folders left by a server that stopped without cleaning up (killed)."""
    if not root.is_dir():
        return
    cutoff = time.time() - older_than
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


# -- the links ---------------------------------------------------------------------------------
def file_url(base: str, task_id: str, files: TaskFiles, name: str) -> str:
    return f"{base.rstrip('/')}/task-files/{task_id}/{name}?token={files.token}"


def _authorized(request: Request) -> TaskFiles | Response:
    task = task_of_link(request, lambda t: t.files.token if t.files is not None else None)
    if task is None:
        return JSONResponse({"detail": "Unknown link."}, status_code=404)
    files: TaskFiles = task.files
    return files


async def _downloads(request: Request) -> Response:
    found = _authorized(request)
    if isinstance(found, Response):
        return found
    if not found.has_archive:
        return JSONResponse(
            {"detail": "This task has no downloads (or it is still running)."}, status_code=404
        )
    return FileResponse(
        found.archive,
        media_type="application/zip",
        filename=f"{request.path_params['task_id']}-downloads.zip",
    )


async def _recording(request: Request) -> Response:
    found = _authorized(request)
    if isinstance(found, Response):
        return found
    if not found.has_recording:
        return JSONResponse(
            {"detail": "This task has no recording (or it is still running)."}, status_code=404
        )
    return FileResponse(found.recording, media_type="video/webm")


def routes() -> list[BaseRoute]:
    return [
        Route(f"/task-files/{{task_id}}/{ARCHIVE_NAME}", _downloads, methods=["GET"]),
        Route(f"/task-files/{{task_id}}/{RECORDING_NAME}", _recording, methods=["GET"]),
    ]
