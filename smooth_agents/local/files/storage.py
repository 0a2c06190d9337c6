"""Profiles, uploaded files and extensions, kept on disk under the server's data dir.

A profile is a Playwright storage state (cookies and local storage) in ``profiles/ID.json``.
Files and extensions keep their bytes plus a small JSON record beside them.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from ..errors import BadRequest, Conflict, NotFound

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_FILENAME_PATTERN = re.compile(r"^[^/\\\x00]{1,255}$")
MAX_FILE_PURPOSE = 64
EMPTY_STORAGE_STATE: dict[str, Any] = {"cookies": [], "origins": []}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _checked_id(kind: str, value: str) -> str:
    if not _ID_PATTERN.fullmatch(value) or value in {".", ".."}:
        raise BadRequest(
            f"Invalid {kind} id {value!r}: use 1-128 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit."
        )
    return value


def _safe_filename(name: str | None) -> str:
    cleaned = (name or "").strip()
    if not cleaned or not _FILENAME_PATTERN.fullmatch(cleaned) or cleaned in {".", ".."}:
        raise BadRequest(f"Invalid file name {name!r}: give a plain name without path separators.")
    return cleaned


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    path: Path
    purpose: str | None


@dataclass(frozen=True)
class StoredExtension:
    id: str
    file_name: str
    creation_time: int
    path: Path


class Storage:
    """Disk-backed store; every method is quick and synchronous (small files only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.profiles_dir = root / "profiles"
        self.files_dir = root / "files"
        self.extensions_dir = root / "extensions"
        for directory in (self.profiles_dir, self.files_dir, self.extensions_dir):
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a setting to fix, said as one
                raise ValueError(
                    f"The data folder {str(root)!r} (SMOOTH_LOCAL_DATA_DIR / --data-dir) cannot be "
                    f"used: {exc.strerror or exc} ({directory})."
                ) from None

    # -- profiles -------------------------------------------------------------------------
    def profile_path(self, profile_id: str) -> Path:
        return self.profiles_dir / f"{_checked_id('profile', profile_id)}.json"

    def create_profile(self, profile_id: str | None) -> str:
        profile_id = profile_id if profile_id is not None else new_id("profile")
        path = self.profile_path(profile_id)
        try:
            with path.open("x", encoding="utf-8") as handle:
                json.dump(EMPTY_STORAGE_STATE, handle)
        except FileExistsError:
            raise Conflict(f"Profile {profile_id!r} already exists.") from None
        return profile_id

    def list_profiles(self) -> list[str]:
        paths = sorted(self.profiles_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        return [p.stem for p in paths]

    def profile_exists(self, profile_id: str) -> bool:
        return self.profile_path(profile_id).is_file()

    def delete_profile(self, profile_id: str) -> None:
        path = self.profile_path(profile_id)
        if not path.is_file():
            raise NotFound(f"Profile {profile_id!r} not found.")
        path.unlink()

    def save_profile_state(self, profile_id: str, state: dict[str, Any]) -> None:
        path = self.profile_path(profile_id)
        if not path.is_file():
            return  # deleted while the task ran: nothing to save into
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state), encoding="utf-8")
        temporary.replace(path)

    # -- files ----------------------------------------------------------------------------
    def save_file(self, name: str | None, content: bytes, purpose: str | None) -> StoredFile:
        filename = _safe_filename(name)
        if purpose is not None and len(purpose) > MAX_FILE_PURPOSE:
            raise BadRequest(
                f"file_purpose is {len(purpose)} characters long; the limit is {MAX_FILE_PURPOSE}."
            )
        file_id = new_id("file")
        directory = self.files_dir / file_id
        directory.mkdir()
        (directory / filename).write_bytes(content)
        meta = {"name": filename, "purpose": purpose, "size": len(content)}
        (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return StoredFile(file_id, filename, directory / filename, purpose)

    def get_file(self, file_id: str) -> StoredFile:
        directory = self.files_dir / _checked_id("file", file_id)
        meta_path = directory / "meta.json"
        if not meta_path.is_file():
            raise NotFound(f"File {file_id!r} not found.")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return StoredFile(file_id, meta["name"], directory / meta["name"], meta.get("purpose"))

    def delete_file(self, file_id: str) -> None:
        stored = self.get_file(file_id)
        shutil.rmtree(stored.path.parent)

    # -- extensions -----------------------------------------------------------------------
    def save_extension(self, name: str | None, content: bytes) -> StoredExtension:
        filename = _safe_filename(name)
        if not zipfile.is_zipfile(BytesIO(content)):
            raise BadRequest("Invalid file format: an extension must be a .zip archive.")
        with zipfile.ZipFile(BytesIO(content)) as archive:
            if not any(n.rsplit("/", 1)[-1] == "manifest.json" for n in archive.namelist()):
                raise BadRequest("Invalid extension: the .zip archive holds no manifest.json.")
        extension_id = new_id("ext")
        directory = self.extensions_dir / extension_id
        directory.mkdir()
        (directory / filename).write_bytes(content)
        created = int(time.time())
        meta = {"file_name": filename, "creation_time": created}
        (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return StoredExtension(extension_id, filename, created, directory / filename)

    def list_extensions(self) -> list[StoredExtension]:
        found = []
        for meta_path in self.extensions_dir.glob("*/meta.json"):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            directory = meta_path.parent
            found.append(
                StoredExtension(
                    directory.name, meta["file_name"], meta["creation_time"], directory / meta["file_name"]
                )
            )
        return sorted(found, key=lambda e: (e.creation_time, e.id))

    def delete_extension(self, extension_id: str) -> None:
        directory = self.extensions_dir / _checked_id("extension", extension_id)
        if not (directory / "meta.json").is_file():
            raise NotFound(f"Extension {extension_id!r} not found.")
        shutil.rmtree(directory)
