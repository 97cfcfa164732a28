"""manage.py sync_dynamodb: push, backfill (resumable), verify and repair."""

import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from smsbot import aws as smsbot_aws
from subscribers.management.commands.sync_dynamodb import checkpoint_key
from subscribers.mirror.write import SUBSCRIBERS, sync_row
from subscribers.models import Conversation, Subscriber

pytestmark = pytest.mark.django_db


def phone(n: int) -> str:
    return f"+131255501{n:02d}"


def make_rows(subscribers: int = 60, conversations: int = 30) -> None:
    for n in range(subscribers):
        Subscriber.objects.create(phone=phone(n), consent_status="opted_in", consent_source="api")
    for n in range(conversations):
        Conversation.objects.create(phone_number=phone(n), message_count=n, user_context={"n": n})
    Subscriber.objects.create(phone="erased-1", erased_at=timezone.now())


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_dynamodb", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def keys(ddb, table: str, key: str) -> set[str]:
    pages = ddb.get_paginator("scan").paginate(TableName=table)
    return {i[key]["S"] for page in pages for i in page["Items"]}


@pytest.fixture(autouse=True)
def _no_checkpoint():
    cache.delete(checkpoint_key(SUBSCRIBERS))
    yield
    cache.delete(checkpoint_key(SUBSCRIBERS))


def test_backfill_writes_every_live_row_in_batches_of_25(proxy, tables):
    make_rows()
    out = run("--backfill")
    assert "BotSubscribers: 60 items in 3 requests" in out
    assert "BotConversations: 30 items in 2 requests" in out
    assert proxy.seen["BatchWriteItem"] == 5 and proxy.seen["PutItem"] == 0
    assert keys(tables, "BotSubscribers", "phone") == {phone(n) for n in range(60)}
    assert keys(tables, "BotConversations", "phone_number") == {phone(n) for n in range(30)}
    live = Subscriber.objects.filter(erased_at__isnull=True)
    assert all(s.mirror_synced_version == s.version for s in live)


def test_backfill_stopped_midway_resumes_from_its_checkpoint(proxy, tables, settings):
    settings.DYNAMODB_BATCH_ROUNDS = 2  # give up quickly
    settings.DYNAMODB_MAX_ATTEMPTS = 1
    make_rows(conversations=0)
    proxy.allow["BatchWriteItem"] = 2  # then the table throttles every request
    with pytest.raises(CommandError) as failed:
        run("--backfill", "--table", "subscribers")
    assert failed.value.returncode == 1
    fiftieth = Subscriber.objects.order_by("pk")[49].pk
    assert f"stopped after row id {fiftieth}" in str(failed.value)
    assert cache.get(checkpoint_key(SUBSCRIBERS)) == fiftieth
    assert len(keys(tables, "BotSubscribers", "phone")) == 50

    del proxy.allow["BatchWriteItem"]
    proxy.seen.clear()
    out = run("--backfill", "--table", "subscribers")
    assert f"resuming after row id {fiftieth}" in out
    assert "10 items in 1 requests" in out
    assert proxy.seen["BatchWriteItem"] == 1
    assert len(keys(tables, "BotSubscribers", "phone")) == 60
    assert cache.get(checkpoint_key(SUBSCRIBERS)) is None


def test_backfill_under_throttling_and_unprocessed_items_loses_nothing(proxy, tables):
    make_rows(conversations=0)
    proxy.throttle["BatchWriteItem"] = 3
    proxy.unprocess["BatchWriteItem"] = 2
    run("--backfill", "--table", "subscribers")
    assert proxy.refused["BatchWriteItem"] == 3
    assert keys(tables, "BotSubscribers", "phone") == {phone(n) for n in range(60)}
    assert run("--verify", "--table", "subscribers").startswith(
        "BotSubscribers: 60 rows, 60 items: 0 missing, 0 extra, 0 different"
    )


@pytest.mark.django_db(transaction=True)
def test_a_change_landing_mid_batch_is_not_overwritten(proxy, tables):
    make_rows(subscribers=3, conversations=0)

    def newer_version_mirrored_meanwhile() -> None:
        sub = Subscriber.objects.get(phone=phone(1))
        sub.consent_status = "opted_out"
        sub.save()
        sync_row(SUBSCRIBERS, sub)  # what its mirror task does
        connections.close_all()  # this runs in the proxy's thread

    proxy.before["BatchWriteItem"] = newer_version_mirrored_meanwhile
    assert "1 rewritten after changing mid-batch" in run("--backfill", "--table", "subscribers")
    item = tables.get_item(TableName="BotSubscribers", Key={"phone": {"S": phone(1)}})["Item"]
    assert item["consent_status"] == {"S": "opted_out"}
    assert item["version"] == {"N": str(Subscriber.objects.get(phone=phone(1)).version)}


def test_push_without_options_writes_only_what_is_not_there(tables):
    make_rows(subscribers=5, conversations=2)
    assert "BotSubscribers: 5 written" in run()
    assert "BotSubscribers: 0 written" in run()
    assert len(keys(tables, "BotConversations", "phone_number")) == 2


def hand_edit(ddb, table: str, key: str, attribute: str, value: dict) -> None:
    ddb.update_item(
        TableName=table,
        Key={"phone" if table == "BotSubscribers" else "phone_number": {"S": key}},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":v": value},
    )


def test_verify_finds_drift_and_repair_fixes_it(tables):
    make_rows(subscribers=10, conversations=3)
    run("--backfill")
    tables.delete_item(TableName="BotSubscribers", Key={"phone": {"S": phone(1)}})
    hand_edit(tables, "BotSubscribers", phone(2), "consent_status", {"S": "opted_out"})
    hand_edit(tables, "BotSubscribers", phone(3), "version", {"N": "999"})
    hand_edit(tables, "BotSubscribers", phone(4), "version", {"S": "not a number"})
    tables.put_item(TableName="BotSubscribers", Item={"phone": {"S": phone(99)}})
    hand_edit(tables, "BotConversations", phone(0), "message_count", {"N": "41"})

    out = io.StringIO()
    with pytest.raises(CommandError) as drift:
        call_command("sync_dynamodb", "--verify", stdout=out)
    assert drift.value.returncode == 1
    # One sentence, as manage.py prints it (it was a Python tuple).
    assert str(drift.value) == "DynamoDB differs from the database (fix with --repair)."
    report = out.getvalue()
    assert "BotSubscribers: 10 rows, 10 items: 1 missing, 1 extra, 3 different" in report
    assert "BotConversations: 3 rows, 3 items: 0 missing, 0 extra, 1 different" in report
    assert "missing: +1******0101" in report and "extra: +1******0199" in report
    assert "+131255501" not in report  # numbers are masked

    repaired = run("--repair")
    assert "BotSubscribers: repaired: 4 written, 1 deleted, 0 changed meanwhile" in repaired
    assert "BotConversations: repaired: 1 written" in repaired
    clean = run("--verify")
    assert "0 missing, 0 extra, 0 different" in clean
    item = tables.get_item(TableName="BotSubscribers", Key={"phone": {"S": phone(3)}})["Item"]
    assert item["version"] == {"N": str(Subscriber.objects.get(phone=phone(3)).version)}


def test_missing_table_is_a_clear_error(tables):
    tables.delete_table(TableName="BotConversations")
    with pytest.raises(CommandError, match="BotConversations does not exist") as failed:
        run("--verify")
    assert failed.value.returncode == 2


def test_missing_credentials_is_a_clear_error(tables, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    smsbot_aws._client.cache_clear()
    try:
        with pytest.raises(CommandError, match="AWS credentials are missing") as failed:
            run("--backfill")
    finally:
        smsbot_aws._client.cache_clear()
    assert failed.value.returncode == 2
