"""One side of bench_screens_before: run inside a checkout (now, or the commit before).

    python -c "$(cat screens_worker.py)" fill MESSAGES SUBSCRIBERS DAYS
        fills the database DATABASE_URL names with that checkout's own bench data
        (bench.bench_dashboard.fill) and builds its rollups;
    python -c "$(cat screens_worker.py)" serve
        logs in as a superuser and, for each line "home" or "broadcast" read from
        stdin, answers the page's server time in milliseconds.

It runs as -c, from the checkout's directory, so that every import is that
checkout's; it uses only what both have, so each side runs its own code on its
own schema.
"""

import sys
import time
from datetime import timedelta

# Today's send, as both checkouts' bench.bench_dashboard.fill name it.
BROADCAST = "Daily (bench)"


def fill(messages: int, subscribers: int, days: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench.bench_dashboard import fill as fill_tables
    from messaging.reports import rollups

    fill_tables(connection, messages, subscribers, days)
    today = timezone.localdate()
    rollups.refresh(today - timedelta(days=days), today + timedelta(days=1))


def serve() -> None:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.test.utils import setup_test_environment

    from messaging.models import Broadcast

    setup_test_environment()
    admin = User.objects.create_superuser("bench", password="bench-password-0123")
    client = Client()
    client.force_login(admin)
    broadcast = Broadcast.objects.get(name=BROADCAST)
    pages = {"home": "/admin/", "broadcast": f"/admin/messaging/broadcast/{broadcast.pk}/change/"}
    for url in pages.values():  # warm up
        client.get(url)
    print("ready", flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        response = client.get(pages[line.strip()])
        took = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            print(f"error {response.status_code}", flush=True)
            return
        print(f"{took:.3f}", flush=True)


if __name__ == "__main__":
    import django

    django.setup()
    if sys.argv[1] == "fill":
        fill(*(int(a) for a in sys.argv[2:5]))
    else:
        serve()
