"""DynamoDB tables in moto's server, and a proxy that throttles like a busy table."""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests

from smsbot import aws as smsbot_aws

SCHEMAS = {
    "BotSubscribers": [("phone", "HASH")],
    "BotConversations": [("phone_number", "HASH")],
    "BotAnalytics": [("date", "HASH"), ("metric_type", "RANGE")],
}
THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
    "message": "Rate of requests exceeds the allowed throughput.",
}


def create_tables(endpoint: str, names: list[str] | None = None) -> None:
    ddb = direct_client(endpoint)
    for name, keys in SCHEMAS.items():
        if names is not None and name not in names:
            continue
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
            BillingMode="PAY_PER_REQUEST",
        )


def direct_client(endpoint: str) -> Any:
    """A client straight to moto, for the test's own reads and hand edits."""
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def tables(aws: str, settings: Any) -> Any:
    """The three tables in a clean moto account; settings tuned for quick retries."""
    settings.DYNAMODB_MAX_ATTEMPTS = 2
    settings.DYNAMODB_MIRROR_RETRIES = 4
    settings.DYNAMODB_MIRROR_RETRY_DELAY = 0.2
    settings.DYNAMODB_BATCH_ROUNDS = 6
    # Adaptive mode's client-side rate limiter makes a throttled test wait many seconds.
    settings.DYNAMODB_RETRY_MODE = "standard"
    create_tables(aws)
    return direct_client(aws)


@pytest.fixture
def sync_on(settings: Any, tables: Any) -> Any:
    settings.DYNAMODB_SYNC_ENABLED = True
    return tables


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)


class ThrottlingProxy:
    """HTTP proxy in front of moto's server that can misbehave like DynamoDB under load.

    throttle[op] = n: the next n requests for op are answered 400 ThrottlingException.
    allow[op] = n: n more requests for op pass, then every later one is throttled.
    before[op] = fn: fn() runs once, before the next op request is forwarded.
    unprocess[op] = n: the next n BatchWriteItem requests forward only their first
    item and hand the rest back as UnprocessedItems.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.throttle: Counter[str] = Counter()
        self.unprocess: Counter[str] = Counter()
        self.allow: dict[str, int] = {}
        self.before: dict[str, Callable[[], None]] = {}
        self.seen: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                op = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                status, headers, payload = proxy.handle(op, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _take(self, counter: Counter[str], op: str) -> bool:
        with self.lock:
            if counter[op] > 0:
                counter[op] -= 1
                return True
            return False

    def _outage(self, op: str) -> bool:
        with self.lock:
            if op not in self.allow:
                return False
            self.allow[op] -= 1
            return self.allow[op] < 0

    def handle(self, op: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        json_type = {"Content-Type": "application/x-amz-json-1.0"}
        with self.lock:
            self.seen[op] += 1
        if self._take(self.throttle, op) or self._outage(op):
            self.refused[op] += 1
            return 400, json_type, json.dumps(THROTTLED).encode()
        with self.lock:
            hook = self.before.pop(op, None)
        if hook is not None:
            hook()
        unprocessed: dict[str, list] = {}
        if op == "BatchWriteItem" and self._take(self.unprocess, op):
            request = json.loads(body)
            for table, items in request["RequestItems"].items():
                request["RequestItems"][table] = items[:1]
                if items[1:]:
                    unprocessed[table] = items[1:]
            body = json.dumps(request).encode()
        forward = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        response = requests.post(self.upstream, data=body, headers=forward, timeout=30)
        payload = response.content
        if unprocessed:
            answer = response.json()
            answer["UnprocessedItems"] = unprocessed
            payload = json.dumps(answer).encode()
        # The body may have changed, so its CRC header would not match.
        return response.status_code, json_type, payload

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(tables: Any, aws: str, settings: Any) -> Iterator[ThrottlingProxy]:
    """Point the portal's AWS clients at a ThrottlingProxy in front of moto."""
    server = ThrottlingProxy(aws)
    settings.AWS_ENDPOINT_URL = server.url
    yield server
    server.close()
    smsbot_aws._client.cache_clear()
