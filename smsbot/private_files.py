"""The portal's files on the local disk are private to the user it runs as.

The demo's SQLite database holds numbers and consent evidence, the embedded
broker's folder the tasks about them, var/ the secret key and the file cache, and
the imports' folder (IMPORT_DIR, also FILE_UPLOAD_TEMP_DIR) the uploaded files.
Every process (manage.py, gunicorn, Celery) makes them private when it starts,
before anything opens them: folders 0700, the database file 0600 (created
empty, which SQLite takes as a new database; SQLite gives its -wal and -shm
files the database's mode). Whatever the umask, nothing is ever readable by
another user, not even between creating a file and changing its mode. A file or
folder of the portal's left more open by an older version is tightened when the
portal's user owns it.
"""

import logging
import os
import stat
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SQLITE = "django.db.backends.sqlite3"


def secure_local_files() -> None:
    """Make private every local file and folder the settings use."""
    database = _sqlite_database()
    folders = [settings.CELERY_BROKER_FOLDER] if settings.CELERY_EMBEDDED_BROKER else []
    # It must exist before the first upload: Django writes large ones into it.
    folders.append(Path(settings.FILE_UPLOAD_TEMP_DIR))
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("FileBasedCache"):
        folders.append(Path(cache["LOCATION"]))
    var = settings.VAR_DIR
    if any(var in path.parents for path in [*folders, *([database] if database else [])]):
        _folder(var)
    for folder in folders:
        _folder(folder)
    if database:
        private_database(database)


def _sqlite_database() -> Path | None:
    db = settings.DATABASES["default"]
    name = str(db.get("NAME") or "")
    if db["ENGINE"] != SQLITE or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def _folder(path: Path) -> None:
    try:
        _make_folders(path)
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot create the folder {path}: {exc.strerror}") from exc
    _tighten(path, FOLDER_MODE)


def _make_folders(path: Path) -> None:
    """Create path and its missing parents, each private (mkdir's parents=True would
    give the parents the umask's mode)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)


def private_database(path: Path) -> None:
    """Create the SQLite file 0600 when missing, or tighten it. Its folder, perhaps of
    the operator's choosing (a home directory), is made private only when missing."""
    try:
        _make_folders(path.parent)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot create the SQLite database {path}: {exc.strerror}"
        ) from exc
    _tighten(path, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Take group and other permissions away from what the portal's user owns."""
    info = path.stat()
    if not stat.S_IMODE(info.st_mode) & 0o077 or info.st_uid != os.geteuid():
        return
    try:
        path.chmod(stat.S_IMODE(info.st_mode) & mode)
    except OSError as exc:
        # A read-only file system keeps what the image set; the portal still runs.
        log.warning("%s is readable by other users and stays so: %s", path, exc.strerror)
