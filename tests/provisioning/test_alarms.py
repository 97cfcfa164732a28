"""Alarms that reach a person, read back from moto; the dead-man's switch evaluated.

moto stores metric math alarms but never evaluates them, so the tests read each
alarm back, read the data points the portal published, and evaluate the alarm's
own expression with tests.fakes.metric_math (written from AWS's documentation).
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from messaging.broadcasts import due as daily_due
from messaging.models import Broadcast
from messaging.reports import monitoring
from smsbot.aws import client
from smsbot.metrics import put_now
from tests.fakes.metric_math import evaluate_alarm
from tests.ops.daily_schedule import due_minutes_ago
from tests.provisioning.conftest import provision, run

ALERTS_TOPIC = "arn:aws:sns:us-east-1:123456789012:smsbot-alerts"
pytestmark = pytest.mark.django_db


def alarm(name: str) -> dict:
    [found] = client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def test_every_alarm_notifies_the_alerts_topic_and_a_second_run_changes_nothing(aws):
    first = provision()
    assert "create    SNS alerts topic smsbot-alerts" in first.out
    alarms = client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert len(alarms) == 8  # README "Alerts and monitoring", the brake included
    for found in alarms:
        assert found["AlarmActions"] == [ALERTS_TOPIC], found["AlarmName"]
        assert found["OKActions"] == [ALERTS_TOPIC], found["AlarmName"]
    emails = {
        s["Endpoint"]
        for s in client("sns").list_subscriptions_by_topic(TopicArn=ALERTS_TOPIC)["Subscriptions"]
        if s["Protocol"] == "email"
    }
    assert emails == {"ops@example.com", "oncall@example.com"}

    again = provision()
    assert not again.lines("create") and not again.lines("update")
    assert "unchanged SNS alerts topic smsbot-alerts" in again.out
    verified = run("verify_aws")
    assert verified.error is None, verified.out
    assert "✓ SNS alerts topic smsbot-alerts: ops@example.com subscribed" in verified.out


def test_changed_addresses_are_one_update(aws, settings):
    provision()
    settings.ALERT_EMAILS = ["ops@example.com", "new@example.com"]
    [update] = run("provision_aws", "--dry-run").lines("update")
    assert "new@example.com: not subscribed → subscribe" in update
    assert "oncall@example.com: subscribed → unsubscribe" in update
    provision()
    subscribed = client("sns").list_subscriptions_by_topic(TopicArn=ALERTS_TOPIC)["Subscriptions"]
    assert {s["Endpoint"] for s in subscribed} == {"ops@example.com", "new@example.com"}


def test_without_alert_emails_the_alarms_notify_nobody_and_say_so(aws, settings):
    settings.ALERT_EMAILS = []
    result = provision()
    assert "skipped   SNS alerts topic smsbot-alerts" in result.out
    assert "warning: ALERT_EMAILS is not set: the alarms notify nobody" in result.out
    topics = {t["TopicArn"] for t in client("sns").list_topics()["Topics"]}
    assert ALERTS_TOPIC not in topics
    assert all(
        not a["AlarmActions"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]
    )

    settings.ALERT_EMAILS = ["ops@example.com"]
    plan = run("provision_aws", "--dry-run")
    assert "create    SNS alerts topic smsbot-alerts" in plan.out
    assert any("alarm smsbot-beat-heartbeat (AlarmActions" in line for line in plan.lines("update"))


def test_the_failure_rate_alarm_follows_alert_failure_rate(aws, settings):
    settings.ALERT_FAILURE_RATE = 25
    provision()
    found = alarm("smsbot-delivery-failure-rate")
    assert found["Threshold"] == 25.0 and found["TreatMissingData"] == "notBreaching"
    [expression] = [q["Expression"] for q in found["Metrics"] if q.get("ReturnData")]
    assert "undelivered" in expression


def test_what_older_versions_made_and_nothing_uses_is_deleted(aws):
    sns = client("sns")
    old = sns.create_topic(Name="sms-delivery-status")["TopicArn"]
    sns.subscribe(
        TopicArn=old, Protocol="https", Endpoint="https://portal.example.com/webhooks/sns/"
    )
    client("logs").create_log_group(logGroupName="/aws/sns/sms-delivery")

    first = provision()
    deleted = first.lines("delete")
    assert len(deleted) == 2
    assert "retired SNS topic sms-delivery-status (state: exists → deleted" in deleted[1]
    assert old not in {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    groups = {g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]}
    assert "/aws/sns/sms-delivery" not in groups
    assert "retired" not in provision().out  # gone: not mentioned again


def beat_every_minute(start: datetime, end: datetime) -> None:
    moment = start
    while moment < end:
        monitoring.heartbeat(moment)
        moment += timedelta(minutes=1)


def test_a_stopped_heartbeat_turns_the_heartbeat_alarm_to_breaching(aws):
    provision()
    heartbeat = alarm("smsbot-beat-heartbeat")
    assert heartbeat["TreatMissingData"] == "breaching"
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cloudwatch = client("cloudwatch")

    beat_every_minute(now - timedelta(minutes=40), now - timedelta(minutes=12))
    state, points = evaluate_alarm(cloudwatch, heartbeat, end=now)
    assert state == "ALARM" and all(breaching for _, _, breaching in points)

    beat_every_minute(now - timedelta(minutes=12), now)  # beat is back
    state, points = evaluate_alarm(cloudwatch, heartbeat, end=now)
    assert state == "OK" and [value for _, value, _ in points] == [1.0] * 10


def test_a_skipped_daily_broadcast_turns_the_missed_broadcast_alarm_to_breaching(aws, settings):
    settings.DAILY_FALLBACK_TEXT = "A word for today"  # a day with content
    provision()
    missed = alarm("smsbot-daily-broadcast-missed")
    assert missed["TreatMissingData"] == "breaching"
    cloudwatch = client("cloudwatch")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    due_minutes_ago(45, now)

    beat_every_minute(now - timedelta(minutes=50), now)  # beat alive; nothing starts it
    state, points = evaluate_alarm(cloudwatch, missed, end=now)
    assert state == "ALARM"
    assert [value for _, value, _ in points] == [1.0] * 30


def test_a_broadcast_that_begins_keeps_the_alarm_ok(aws, settings):
    settings.DAILY_FALLBACK_TEXT = "A word for today"
    provision()
    missed = alarm("smsbot-daily-broadcast-missed")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    due = due_minutes_ago(45, now)
    began = due + timedelta(minutes=2)
    beat_every_minute(now - timedelta(minutes=50), began)
    Broadcast.objects.create(
        idempotency_key=f"daily:{daily_due.today(now).day.isoformat()}", name="Daily",
        text="A word", state="sending", started_at=began,
    )  # fmt: skip
    put_now({"DailyBroadcastStarted": 1}, began)  # what daily.start sends
    beat_every_minute(began, now)
    state, points = evaluate_alarm(client("cloudwatch"), missed, end=now)
    assert state == "OK" and {value for _, value, _ in points} == {0.0}


def test_the_failure_rate_alarm_breaches_above_the_rate(aws, settings):
    settings.ALERT_FAILURE_RATE = 10
    provision()
    rate = alarm("smsbot-delivery-failure-rate")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    put_now({"MessagesDelivered": 85, "MessagesUndelivered": 15}, hour + timedelta(minutes=5))
    state, points = evaluate_alarm(client("cloudwatch"), rate, end=hour + timedelta(hours=1))
    assert state == "ALARM" and points[-1][1] == pytest.approx(15.0)
    # A quiet hour says nothing: 1 failure in 3 reports is under the volume that counts.
    put_now(
        {"MessagesDelivered": 2, "MessagesUndelivered": 1}, hour + timedelta(hours=1, minutes=5)
    )
    state, points = evaluate_alarm(client("cloudwatch"), rate, end=hour + timedelta(hours=2))
    assert state == "OK" and points[-1][1] == 0.0
