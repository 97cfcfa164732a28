"""A bench worker process that counts the SQL statements it runs, by what ran them.

`python -m bench.counting_worker` runs tests.messaging.pipeline.run_worker (the
recording provider, the clock file) with every cursor execute counted; at
shutdown the counts go to BENCH_QUERY_COUNT_DIR/<pid> as JSON. Counting at the
cursor sees every statement, whichever code path (ORM or hand-written SQL)
issued it. A statement counts under the task its thread is running, or under
"send pool" in the threads that claim and call the provider for send_batch.
"""

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_shutdown
from django.db.backends.utils import CursorWrapper

POOL = "send pool"
_counts: Counter[str] = Counter()
_lock = threading.Lock()
_running = threading.local()
_execute, _executemany = CursorWrapper.execute, CursorWrapper.executemany


def _counted(method: Any) -> Any:
    def run(self: CursorWrapper, *args: Any, **kwargs: Any) -> Any:
        name = getattr(_running, "task", None)
        if name is None:
            name = POOL if threading.current_thread().name.startswith("send") else "other"
        with _lock:
            _counts[name] += 1
        return method(self, *args, **kwargs)

    return run


CursorWrapper.execute = _counted(_execute)  # type: ignore[method-assign]
CursorWrapper.executemany = _counted(_executemany)  # type: ignore[method-assign]


@task_prerun.connect
def _task_starts(task: Any = None, **kwargs: object) -> None:
    _running.task = task.name


@task_postrun.connect
def _task_ends(**kwargs: object) -> None:
    _running.task = None


@worker_shutdown.connect
def _write_counts(**kwargs: object) -> None:
    with _lock:
        counts = dict(_counts)
    Path(os.environ["BENCH_QUERY_COUNT_DIR"], str(os.getpid())).write_text(json.dumps(counts))


import tests.messaging.pipeline.run_worker  # noqa: E402,F401 - runs the worker until stopped
