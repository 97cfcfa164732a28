"""The private directory where an uploaded import file waits for its confirmation.

Only the portal names, reads and deletes its files: a name is 32 random hex
digits chosen here, and any other name is refused before the file system is
touched, so no name from a browser can reach a file outside the directory.
"""

import contextlib
import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings

NAME = re.compile(r"[0-9a-f]{32}")
# What Django names an upload it writes here (FILE_UPLOAD_TEMP_DIR): tempfile's "tmp"
# and random letters, ".upload" and the browser's extension. Removed at the end of its
# request; one left by a killed process is swept like a stale import.
UPLOAD_LEFTOVER = re.compile(r"tmp[a-z0-9_]{8}\.upload(\..*)?")


class ImportFileMissing(Exception):
    """The file a preview stored is gone (confirmed already, or stale and swept)."""


def directory() -> Path:
    """settings.IMPORT_DIR, created private (0700) on first use."""
    path = Path(settings.IMPORT_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask, and an existing directory keeps its own.
    path.chmod(0o700)
    return path


def _path(name: str) -> Path:
    if not NAME.fullmatch(name or ""):
        raise ImportFileMissing("not a file name the portal gave")
    return directory() / name


def save(data: bytes) -> str:
    """Store data under a new random name (0600); returns the name."""
    sweep()
    name = secrets.token_hex(16)
    fd = os.open(_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return name


def read(name: str) -> bytes:
    try:
        fd = os.open(_path(name), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ImportFileMissing(name) from exc
    with os.fdopen(fd, "rb") as file:
        return file.read()


def take(name: str) -> bytes:
    """The file's content, once: it is claimed (renamed), read and deleted, so two
    confirmations of one preview cannot both import it."""
    claimed = secrets.token_hex(16)
    try:
        os.rename(_path(name), _path(claimed))
    except OSError as exc:
        raise ImportFileMissing(name) from exc
    try:
        return read(claimed)
    finally:
        remove(claimed)


def remove(name: str) -> None:
    with contextlib.suppress(ImportFileMissing):
        _path(name).unlink(missing_ok=True)


def sweep(older_than_seconds: float | None = None) -> int:
    """Delete the directory's files older than a confirmation may come; returns how many.

    Run on every upload, so a preview nobody confirmed does not outlive its token
    by long; only names the portal gives are considered, and Django's leftover uploads.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.IMPORT_CONFIRM_MINUTES * 60
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory().iterdir():
        ours = NAME.fullmatch(path.name) or UPLOAD_LEFTOVER.fullmatch(path.name)
        if ours and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
