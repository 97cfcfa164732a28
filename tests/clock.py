"""A settable clock for tests and the benchmarks: the portal's "now" moved to a chosen
moment, running on from there at real speed.

Delivery windows follow the wall clock in every subscriber's zone, and the tests
cross days and DST changes in seconds. The portal only ever asks
django.utils.timezone.now() for the time (Django's auto_now fields too), so
moving that moves everything in this process, its in-process Celery worker
threads included. A worker in another process follows a file: it calls
follow_file() at start, and the test or benchmark moves it with FileClock.set().
"""

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import django.utils.timezone as django_timezone
import pytest

_real_now = django_timezone.now


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def set(self, moment: datetime) -> None:
        """From now on the portal's clock reads moment, and runs on from there."""
        self.offset = moment - _real_now()

    def now(self) -> datetime:
        return _real_now() + self.offset


class FileClock(Clock):
    """The offset kept in a file, so that other processes read the same time."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._seen: tuple[int, timedelta] = (-1, timedelta(0))

    def set(self, moment: datetime) -> None:
        super().set(moment)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(str(self.offset.total_seconds()))
        os.replace(tmp, self.path)  # readers never see half a number

    def now(self) -> datetime:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return _real_now()
        if stamp != self._seen[0]:
            self._seen = (stamp, timedelta(seconds=float(self.path.read_text())))
        return _real_now() + self._seen[1]


def follow_file(path: str) -> FileClock:
    """In a worker process: read the portal's time from the file a test moves."""
    clock = FileClock(Path(path))
    django_timezone.now = clock.now
    return clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    moved = Clock()
    monkeypatch.setattr(django_timezone, "now", moved.now)
    yield moved
