"""A real Celery worker process with the recording provider registered.

Run as `python -m tests.messaging.pipeline.run_worker` with the environment
pointing at the test database and broker (see test_worker_crash.py).
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE, app  # noqa: E402
from tests.messaging.pipeline import recording_provider  # noqa: E402

recording_provider.register()
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
