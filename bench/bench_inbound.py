"""Inbound webhook load: signed Twilio requests against gunicorn, next to a trivial view.

gunicorn runs the portal (docker/gunicorn.conf.py) on a scratch copy of the
database named by DATABASE_URL (PostgreSQL: a fresh `<name>_bench_inbound`
database, dropped afterwards). A second set of processes sends pre-signed
requests: first as fast as they can (throughput), then paced at
BENCH_INBOUND_RATE requests/s (latency, measured from each request's scheduled
time so that queueing counts). The same figures for GET /healthz/ are the
baseline, and those of a floor view (bench/inbound_urls.py: the signature
check and one stored row, the least a correct webhook does) show what a
durable write alone costs here.

Settings (environment): BENCH_INBOUND_SECONDS (per phase, default 10),
BENCH_INBOUND_RATE (default 200), BENCH_INBOUND_CLIENTS (default 2 processes
x 4 connections).
"""

import gc
import http.client
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
AUTH_TOKEN = "bench-twilio-auth-token-0123456789"
NUMBERS = [f"+1312555{n:04d}" for n in range(100, 200)]  # fictional numbers only
INBOUND = "/webhooks/twilio/inbound/"
FLOOR = "/bench/floor/"  # bench/inbound_urls.py
# Requests per second no server here reaches: sizes the flat-out phase's request list.
MAX_RATE = 5_000
TARGET_P99_MS = 50.0

Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


def run() -> list[str]:
    seconds = float(os.environ.get("BENCH_INBOUND_SECONDS", "10"))
    rate = float(os.environ.get("BENCH_INBOUND_RATE", "200"))
    processes = int(os.environ.get("BENCH_INBOUND_CLIENTS", "2"))
    lines = []
    with scratch_database() as (database_url, vendor):
        if vendor != "postgresql":
            lines.append(
                f"NOTE: DATABASE_URL is {vendor}, not PostgreSQL: figures are not comparable"
            )
        with portal(database_url) as base_url:
            host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
            # Each phase gets its own requests (every MessageSid new to the server),
            # enough for the fastest server this machine could be: the paced phase
            # must never inherit a list the flat-out phase used up.
            flat_out = int(MAX_RATE * seconds)
            paced_count = int(rate * seconds * 1.2) + 100
            workloads: dict[str, Callable[[int], list[Request]]] = {
                "trivial view (GET /healthz/)": healthz_requests,
                "floor (signature + one stored row)": partial(
                    twilio_requests, base_url, keyword=False, path=FLOOR
                ),
                "keyword (STOP/START)": partial(twilio_requests, base_url, keyword=True),
                "conversation": partial(twilio_requests, base_url, keyword=False),
            }
            results = {}
            for name, make in workloads.items():
                throughput = load(
                    host, port, split_among(make(flat_out), processes), seconds, paced_rate=None
                )
                paced = load(
                    host, port, split_among(make(paced_count), processes), seconds, paced_rate=rate
                )
                results[name] = (throughput, paced)
    baseline = results["trivial view (GET /healthz/)"][0]["rps"]
    floor = results["floor (signature + one stored row)"][0]["rps"]
    for name, (throughput, paced) in results.items():
        lines.append(
            f"{name}: {throughput['rps']:.0f} req/s max ({throughput['errors']} errors); "
            f"at {rate:.0f} req/s: p50 {paced['p50']:.1f} ms, p99 {paced['p99']:.1f} ms "
            f"({paced['errors']} errors)"
        )
    for name, (throughput, paced) in list(results.items())[2:]:
        ratio = throughput["rps"] / baseline if baseline else 0.0
        verdict = "ok" if ratio >= 0.5 and paced["p99"] < TARGET_P99_MS else "MISSED"
        lines.append(
            f"{name}: {ratio:.0%} of the trivial view's throughput "
            f"({throughput['rps'] / floor if floor else 0.0:.0%} of the floor's), "
            f"p99 {paced['p99']:.1f} ms "
            f"(target >= 50% and p99 < {TARGET_P99_MS:.0f} ms at {rate:.0f} req/s): {verdict}"
        )
    return lines


# --- the server side -----------------------------------------------------------------


@contextmanager
def scratch_database() -> Iterator[tuple[str, str]]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = f"{parts.path.lstrip('/') or 'smsbot'}_bench_inbound"
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield parts._replace(path=f"/{name}").geturl(), "postgresql"
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        folder = tempfile.mkdtemp(prefix="bench-inbound-")
        try:
            yield f"sqlite:///{folder}/bench.sqlite3", "sqlite"
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def portal(database_url: str) -> Iterator[str]:
    port = free_port()
    folder = tempfile.mkdtemp(prefix="bench-inbound-run-")
    env = {
        **os.environ,
        # The portal's settings, plus the floor view's URL.
        "DJANGO_SETTINGS_MODULE": "bench.inbound_settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_FOLDER": f"{folder}/broker",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_VALIDATE_SIGNATURES": "true",
        "WEB_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [str(bin_dir / "gunicorn"), "smsbot.wsgi", "--config", "docker/gunicorn.conf.py",
         "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz/ in time")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the requests, signed ahead of time ------------------------------------------------


def healthz_requests(count: int) -> list[Request]:
    return [("GET", "/healthz/", b"", {})] * count


def twilio_requests(
    base_url: str, count: int, *, keyword: bool, path: str = INBOUND
) -> list[Request]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    requests = []
    for i in range(count):
        phone = NUMBERS[i % len(NUMBERS)]
        if keyword:
            # Alternating per round, so that every message really changes consent.
            body = "STOP" if (i // len(NUMBERS)) % 2 == 0 else "START"
        else:
            body = "hello, what is on today?"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": phone,
            "To": "+13125550100",
            "Body": body,
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(base_url + path, params),
        }
        requests.append(("POST", path, urlencode(params).encode(), headers))
    return requests


def split_among(requests: list[Request], parts: int) -> list[list[Request]]:
    return [requests[i::parts] for i in range(parts)]


# --- the client side (separate processes) -----------------------------------------------

CONNECTIONS_PER_PROCESS = 4


def load(
    host: str, port: int, split: list[list[Request]], seconds: float, paced_rate: float | None
) -> dict:
    ctx = multiprocessing.get_context("spawn")
    per_process_rate = paced_rate / len(split) if paced_rate else None
    with ctx.Pool(len(split)) as pool:
        outcomes = pool.starmap(
            client_process, [(host, port, part, seconds, per_process_rate) for part in split]
        )
    latencies = sorted(ms for o in outcomes for ms in o["latencies"])
    done = len(latencies)
    elapsed = max(o["elapsed"] for o in outcomes)
    return {
        "rps": done / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[min(done - 1, int(done * 0.99))] if latencies else 0.0,
        "errors": sum(o["errors"] for o in outcomes),
    }


def client_process(
    host: str, port: int, requests: list[Request], seconds: float, rate: float | None
) -> dict:
    """Keep-alive connections in threads; paced (open loop) when rate is given."""
    # The client's own pauses would count as the server's latency: a collection
    # walking the thousands of pre-signed requests takes tens of milliseconds.
    gc.disable()
    lock = threading.Lock()
    state = {"next": 0, "errors": 0}
    latencies: list[float] = []
    start = time.monotonic() + 0.2
    end = start + seconds
    interval = 1.0 / rate if rate else 0.0

    def take() -> int | None:
        with lock:
            index = state["next"]
            if index >= len(requests):
                return None
            state["next"] += 1
            return index

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while True:
            index = take()
            if index is None:
                return
            scheduled = start + index * interval if rate else time.monotonic()
            if scheduled >= end:
                return
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            scheduled = max(scheduled, start)
            method, path, body, headers = requests[index]
            try:
                conn.request(method, path, body=body or None, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                ok = False
            took = (time.monotonic() - scheduled) * 1000
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    state["errors"] += 1

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS_PER_PROCESS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "latencies": latencies,
        "errors": state["errors"],
        "elapsed": time.monotonic() - start,
    }
