"""A real Celery worker process with the recording provider registered.

Run as `python -m tests.messaging.pipeline.run_worker` with the environment
pointing at the test database and broker (see test_worker_crash.py).
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from celery.signals import worker_ready  # noqa: E402

from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE, app  # noqa: E402
from tests.messaging.pipeline import recording_provider  # noqa: E402

recording_provider.register()
if os.environ.get("TEST_CLOCK_FILE"):
    # The portal's time as the test or benchmark sets it (tests/clock.py).
    from tests.clock import follow_file

    follow_file(os.environ["TEST_CLOCK_FILE"])


@worker_ready.connect
def _announce(**kwargs: object) -> None:
    # Lets a caller wait for the worker instead of timing its start-up.
    ready_file = os.environ.get("WORKER_READY_FILE")
    if ready_file:
        with open(ready_file, "a") as f:
            f.write(f"{os.getpid()}\n")


app.worker_main(
    [
        "worker",
        "--pool=threads",
        f"--concurrency={os.environ.get('WORKER_CONCURRENCY', '4')}",
        f"--queues={REPLIES_QUEUE},{BULK_QUEUE}",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *sys.argv[1:],
    ]
)
