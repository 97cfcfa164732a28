"""The review's low findings, each attacked through its door: replayed SNS messages,
cross-site sign-ups on a public API, timings in /readyz/, a world-readable database."""

import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from messaging.models import Message
from smsbot.models import OutboxTask
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.webhooks.conftest import INBOUND_TOPIC_ARN, post_sns, sns_timestamp

ROOT = Path(__file__).resolve().parents[2]
API = reverse("subscribers:optin_api")
TOKEN = "partner-token-for-tests-0123"
PHONE = "+13125550123"
REPLAYS = 30

pytestmark = pytest.mark.django_db


# --- SNS: a replayed message acts once --------------------------------------------------


def confirmation(sns_signer, token: str) -> dict[str, str]:
    return sns_signer.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": INBOUND_TOPIC_ARN,
            "Message": "You have chosen to subscribe to the topic ...",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": sns_timestamp(),
        }
    )


def confirms(published) -> list[list]:
    return [args for name, args in published if name == "messaging.confirm_sns_subscription"]


def test_a_replayed_subscription_confirmation_queues_one_confirmation(
    client, sns_signer, published, django_capture_on_commit_callbacks, probe
):
    token = f"token-{uuid.uuid4().hex}"
    envelope = confirmation(sns_signer, token)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sns(client, envelope).status_code == 200
        for _ in range(REPLAYS - 1):
            # SNS must see a 200 (or it retries): the replay is answered, not acted on.
            response = post_sns(client, envelope)
            probe.attack(response, refused=response.status_code == 200)
    assert confirms(published) == [[INBOUND_TOPIC_ARN, token]]
    assert not OutboxTask.objects.exists()


def test_the_same_token_in_a_new_message_is_still_one_confirmation(
    client, sns_signer, published, django_capture_on_commit_callbacks, probe
):
    token = f"token-{uuid.uuid4().hex}"
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sns(client, confirmation(sns_signer, token)).status_code == 200
        again = post_sns(client, confirmation(sns_signer, token))
        probe.attack(again, refused=again.status_code == 200)
        # A new subscription (a new token) is confirmed as well.
        assert post_sns(client, confirmation(sns_signer, token + "-new")).status_code == 200
    assert confirms(published) == [[INBOUND_TOPIC_ARN, token], [INBOUND_TOPIC_ARN, token + "-new"]]


def test_a_replayed_notification_is_applied_once(
    client, sns_signer, published, django_capture_on_commit_callbacks, probe
):
    envelope = sns_signer.inbound_sms("STOP")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sns(client, envelope).status_code == 200
        for _ in range(REPLAYS - 1):
            response = post_sns(client, envelope)
            probe.attack(response, refused=response.status_code == 200)
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_out"
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.filter(direction="inbound").count() == 1
    replies = Message.objects.filter(direction="outbound")
    assert replies.count() == 1
    assert [args for name, args in published if name == "messaging.send_message"] == [
        [replies.get().id]
    ]


# --- /api/optin/ cannot be driven by another web site's visitors -----------------------


@pytest.fixture
def public_api(settings) -> None:
    settings.OPTIN_API_PUBLIC = True
    settings.WEBHOOK_TOKEN = TOKEN


def sign_up(phone: str) -> str:
    return json.dumps({"phone": phone, "consent": True, "action": "subscribe"})


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
    ],
)
def test_a_body_not_declared_json_is_refused(client, public_api, content_type, probe):
    response = probe.attack(client.post(API, sign_up(PHONE), content_type=content_type))
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error"]
    # Even with the token: the API speaks JSON.
    with_token = client.post(
        API, sign_up(PHONE), content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert probe.attack(with_token).status_code == 415
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "https://portal.example.test.evil.example"},
        {"HTTP_ORIGIN": "http://portal.example.test"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://portal.example.test"},
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://evil.example"},
    ],
)
def test_a_cross_site_sign_up_without_the_token_is_refused(client, public_api, headers, probe):
    response = probe.attack(
        client.post(API, sign_up(PHONE), content_type="application/json", **headers)
    )
    assert response.status_code == 403
    assert "another web site need the token" in response.json()["error"]
    assert not Subscriber.objects.exists()


def test_own_site_servers_and_partners_still_sign_up(client, public_api):
    own = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://portal.example.test"}
    callers = [
        ("+13125550124", {}),  # a server: browsers' headers absent
        ("+13125550125", own),
        ("+13125550126", {"HTTP_SEC_FETCH_SITE": "none"}),
        # A partner's page with the token (a browser sends it only after a preflight).
        ("+13125550127", {"HTTP_ORIGIN": "https://partner.example", "HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}),  # noqa: E501
    ]  # fmt: skip
    for phone, headers in callers:
        response = client.post(
            API, sign_up(phone), content_type="application/json; charset=utf-8", **headers
        )
        assert response.status_code == 200, (headers, response.content)
        assert response.json()["status"] == "pending"
    assert Subscriber.objects.count() == len(callers)


# --- /readyz/ says what is ready, not how fast ------------------------------------------


def test_readyz_names_each_check_and_its_state_only(client, probe):
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}},
    }
    probe.record(response.status_code, refused="ms" not in response.content.decode())


# --- the demo's database and folders are private -----------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrate_on_a_fresh_var_creates_private_files_whatever_the_umask(tmp_path, probe):
    var = tmp_path / "var"
    database, broker, imports = var / "db.sqlite3", var / "broker", var / "imports"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="smsbot.settings",
        DJANGO_SECRET_KEY="k" * 60,
        DATABASE_URL=f"sqlite:///{database}",
        CELERY_BROKER_FOLDER=str(broker),
        # Also where Django writes large uploads (FILE_UPLOAD_TEMP_DIR): made at start.
        IMPORT_DIR=str(imports),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # The usual umask: left alone, SQLite would create a world-readable file.
        preexec_fn=lambda: os.umask(0o022),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert database.stat().st_size > 0  # migrated, not just created
    private = {var: 0o700, broker: 0o700, imports: 0o700, database: 0o600}
    private |= {path: 0o600 for path in var.glob("db.sqlite3-*")}  # -wal, -shm if left
    for path, expected in private.items():
        assert mode(path) == expected, (path, oct(mode(path)))
        probe.record(200, refused=not mode(path) & 0o077)


def test_a_database_left_world_readable_is_tightened_at_start(tmp_path, probe):
    from smsbot.private_files import private_database

    database = tmp_path / "old" / "db.sqlite3"
    database.parent.mkdir(mode=0o755)
    database.touch()
    os.chmod(database, 0o644)
    private_database(database)
    assert mode(database) == 0o600
    # The operator's own folder is left as it was.
    assert mode(database.parent) == 0o755
    probe.record(200, refused=mode(database) == 0o600)
