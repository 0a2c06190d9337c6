"""A folder only this user can use: where secrets (a shared server's key) and code caches (the
Playwright driver's compiled modules) are kept. Imports nothing else of the package, so the local
server and the client use the same check."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FolderNotPrivate(Exception):
    """The folder cannot be made this user's alone; the message says why."""


def private_folder(folder: Path) -> Path:
    """``folder``, made if missing, once it is sure to be this user's alone (mode 0700, owned by
    this user, not a symbolic link); raises ``FolderNotPrivate`` otherwise."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.lstat(folder)
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            raise FolderNotPrivate(f"{folder} is not a folder of this user's")
        if stat.S_IMODE(status.st_mode) & 0o077:
            os.chmod(folder, 0o700)  # this user's own folder, left open to others: closed
    except OSError as exc:
        raise FolderNotPrivate(f"{folder} cannot be made private ({exc})") from None
    return folder
