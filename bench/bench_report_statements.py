"""SQL statements per delivery report, against the commit before the brake, unknown
outcomes and the attribution rollups were added to the report path.

Recording one report through the real doors: Twilio's status callback posted by
the test client with Twilio's signature, and one SNS delivery log line as
CloudWatch Logs hands it to the reader (delivery_logs._apply_page, the page
fetch_sns_delivery applies). Each door is measured for a 'delivered' report and an
'undelivered' one (the brake looks at failures only), on messages of a sending
broadcast, counted with CaptureQueriesContext and averaged over REPORTS reports.

The baseline is the same counting run as a script inside a checkout of
BENCH_REPORTS_BASE (default 0095720, the parent of the first attribution commit,
exported with git archive to a scratch folder), on its own code and migrations.
Target: at most 1.2× the baseline's statements per report.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BASE = os.environ.get("BENCH_REPORTS_BASE", "0095720")
REPORTS = 20
LIMIT = 1.2
AUTH_TOKEN = "bench-twilio-auth-token-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def run() -> list[str]:
    ours = count()
    with tempfile.TemporaryDirectory(prefix="bench-reports-base-") as folder:
        # Fixed commands on our own repository and a scratch folder.
        git = ["git", "archive", BASE]
        archive = subprocess.run(git, cwd=ROOT, check=True, capture_output=True).stdout  # noqa: S603
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)  # noqa: S603, S607
        env = {**os.environ, "PYTHONPATH": folder, "DJANGO_SETTINGS_MODULE": "tests.settings"}
        script = [sys.executable, __file__]  # this very file, as a script
        done = subprocess.run(  # noqa: S603
            script, cwd=folder, env=env, check=True, capture_output=True, text=True
        )
        base = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [f"statements per delivery report, {REPORTS} reports each, base {BASE}:"]
    for name, n in ours.items():
        ratio = n / base[name]
        verdict = "ok" if ratio <= LIMIT else f"OVER {LIMIT}×"
        lines.append(f"{name:<36} {base[name]:5.2f} -> {n:5.2f}  x{ratio:4.2f}  {verdict}")
    return lines


def count() -> dict[str, float]:
    """Statements per report at each door, on the code this process imports."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with override_settings(TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_VALIDATE_SIGNATURES=True):
            return {
                f"{door}, {status}": per_report(door, status)
                for door in ("twilio status callback", "sns delivery log")
                for status in ("delivered", "undelivered")
            }
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def per_report(door: str, status: str) -> float:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    provider = "twilio" if door.startswith("twilio") else "sns"
    sent = sent_messages(provider, REPORTS + 1)
    report = twilio_statuses if provider == "twilio" else sns_log_page
    report(sent[:1], status)  # warm-up: per-process caches, as in a running portal
    with CaptureQueriesContext(connection) as queries:
        report(sent[1:], status)
    return len(queries) / REPORTS


def sent_messages(provider: str, n: int) -> list[str]:
    """n messages of a sending broadcast, sent, awaiting their report: provider ids."""
    from django.utils import timezone

    from messaging.models import Broadcast, Message

    now = timezone.now()
    broadcast = Broadcast.objects.create(
        idempotency_key=f"bench:{provider}:{now.timestamp()}",
        name="Statements (bench)",
        text="Hello",
        state="sending",
        started_at=now,
    )
    made = Message.objects.bulk_create(
        Message(
            direction="outbound",
            kind="broadcast",
            channel="sms",
            provider=provider,
            phone=f"+1312555{100 + i % 100:04d}",
            broadcast=broadcast,
            body="Hello",
            status="sent",
            provider_message_id=f"{provider}-{broadcast.pk}-{i:04d}",
            sent_at=now,
            attempts=1,
        )
        for i in range(n)
    )
    return [m.provider_message_id for m in made]


def twilio_statuses(sids: list[str], status: str) -> None:
    """One signed status callback per message, as Twilio posts them."""
    for sid in sids:
        twilio_status(sid, status)


def twilio_status(sid: str, status: str) -> None:
    from urllib.parse import urlencode

    from django.conf import settings
    from django.test import Client
    from twilio.request_validator import RequestValidator

    path = "/webhooks/twilio/status/"
    params = {"MessageSid": sid, "MessageStatus": status, "To": "+13125550123"}
    if status == "undelivered":
        params["ErrorCode"] = "30003"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        settings.PUBLIC_BASE_URL + path, params
    )
    response = Client().post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 204, response.status_code


def sns_log_page(message_ids: list[str], status: str) -> None:
    """One line per message of SNS's delivery log (AWS's documented format) as
    filter_log_events returns them, applied as one page as fetch_sns_delivery does."""
    from django.utils import timezone

    from messaging.models import DeliveryLogCursor
    from messaging.providers.sns import delivery_logs

    ok = status == "delivered"
    group = "sns/us-east-1/123456789012/DirectPublishToPhoneNumber" + ("" if ok else "/Failure")
    DeliveryLogCursor.objects.get_or_create(log_group=group)
    now = timezone.now()
    response = (
        "Message has been accepted by phone carrier"
        if ok
        else "Phone carrier is currently unreachable/unavailable"
    )
    events: list[dict[str, Any]] = [
        {
            "eventId": f"{message_id}-{status}",
            "timestamp": int(now.timestamp() * 1000),
            "message": json.dumps(
                {
                    "notification": {"messageId": message_id, "timestamp": now.isoformat()},
                    "delivery": {
                        "destination": "+13125550123",
                        "priceInUSD": 0.00645,
                        "smsType": "Transactional",
                        "providerResponse": response,
                        "dwellTimeMs": 500,
                    },
                    "status": "SUCCESS" if ok else "FAILURE",
                }
            ),
        }
        for message_id in message_ids
    ]
    delivery_logs._apply_page(group, events, delivery_logs.GroupResult(group))


if __name__ == "__main__":
    # Run inside the base checkout: print its counts as one JSON line.
    print(json.dumps(count()))
