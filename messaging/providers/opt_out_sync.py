"""The portal's STOPs and STARTs on AWS's opt-out list, and the daily reconcile.

A consent change to opted out or opted in queues a task (through the outbox: a
request never waits on AWS) that puts the number on AWS's list (End User Messaging
SMS; SNS has no such action, see smsbot.opt_out_list) or takes it off
(OptInPhoneNumber / DeleteOptedOutNumber). When AWS refuses to take it off — the
once-in-30-days rule — the refusal and AWS's reason go into the subscriber's
history and the number is shown for review (subscribers.provider_opt_outs):
consent is never changed to match AWS (DESIGN invariant 11).

The reconcile compares AWS's list with the portal's: portal STOPs AWS lacks are
put on it where AWS allows (repaired); numbers AWS holds opted out but the portal
holds opted in are marked for review; marks AWS no longer backs are cleared.
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone

from messaging import task_names
from smsbot import opt_out_list, outbox
from smsbot.redaction import mask_phone
from subscribers import provider_opt_outs
from subscribers.consent import consent_changed
from subscribers.models import Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

SYNCED = (ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT)
# SQLite allows 999 parameters per query; PostgreSQL many more. Chunks serve both.
CHUNK = 500


@receiver(consent_changed, dispatch_uid="messaging.providers.opt_out_sync.on_consent_changed")
def on_consent_changed(
    sender: object, subscriber: Subscriber, to_status: str, **kwargs: Any
) -> None:
    if to_status in SYNCED and subscriber.channel == Channel.SMS and opt_out_list.lists():
        outbox.enqueue(task_names.SYNC_AWS_OPT_OUT, subscriber.pk, to_status)


def sync(subscriber_id: int, to_status: str) -> list[str]:
    """Bring AWS's lists in line with one consent change; what was done, per list.

    Raises botocore's errors on a throttle, a 5xx or the network, for the task's retry.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.consent_status != to_status:
        return []  # changed again since: that change queued its own sync
    done = []
    for kind in opt_out_list.lists():
        if to_status == ConsentStatus.OPTED_OUT:
            provider_opt_outs.clear(subscriber.pk, "opted out here too")
            added = opt_out_list.put_opted_out(kind, subscriber.phone)
            if added:
                provider_opt_outs.note(subscriber, "on AWS's list", {"list": kind})
            done.append(f"{kind}: {'added' if added else 'no action (SNS)'}")
        else:
            done.append(f"{kind}: {_opt_in(kind, subscriber)}")
    return done


def _opt_in(kind: str, subscriber: Subscriber) -> str:
    try:
        removed = opt_out_list.opt_in(kind, subscriber.phone)
    except opt_out_list.Refused as exc:
        refusal = {"list": kind, "error_code": exc.code, "aws_message": exc.message}
        reason = (
            f"AWS refused to take the number off its opt-out list ({exc.code}: {exc.message}); "
            f"{opt_out_list.THIRTY_DAY_RULE}"
        )
        log.warning("opt-in of %s at %s refused: %s", mask_phone(subscriber.phone), kind, exc)
        # One commit: the history line is never seen without the review mark it explains.
        with transaction.atomic():
            provider_opt_outs.note(
                subscriber,
                "opt-in refused",
                {**refusal, "reason": reason},
            )
            provider_opt_outs.hold_for_review(subscriber.phone, reason, {"list": kind})
        return "refused"
    if removed:
        provider_opt_outs.note(subscriber, "taken off AWS's list", {"list": kind})
        provider_opt_outs.clear(subscriber.pk, "AWS took the number off its opt-out list")
        return "taken off"
    return "not on the list"


def _chunks(phones: list[str]) -> list[list[str]]:
    return [phones[i : i + CHUNK] for i in range(0, len(phones), CHUNK)]


def _with_phones(qs: QuerySet[Subscriber], phones: set[str]) -> list[Subscriber]:
    return [s for chunk in _chunks(sorted(phones)) for s in qs.filter(phone__in=chunk)]


def reconcile() -> list[opt_out_list.Reconciled]:
    """Compare each of AWS's lists with the portal's; repair or mark, never change consent."""
    results = []
    held_anywhere: set[str] = set()
    at = timezone.now().isoformat(timespec="minutes")
    for kind in opt_out_list.lists():
        at_aws = opt_out_list.opted_out_numbers(kind)
        held_anywhere |= at_aws
        sms = Subscriber.objects.filter(channel=Channel.SMS, erased_at__isnull=True)
        opted_in = _with_phones(sms.filter(consent_status=ConsentStatus.OPTED_IN), at_aws)
        for subscriber in opted_in:
            provider_opt_outs.hold_for_review(
                subscriber.phone,
                f"on AWS's opt-out list ({opt_out_list.NAMES[kind]}), found by the daily reconcile",
                {"list": kind},
            )
        stops = set(
            sms.filter(consent_status=ConsentStatus.OPTED_OUT).values_list("phone", flat=True)
        )
        missing = stops - at_aws
        pushed = sum(1 for phone in sorted(missing) if opt_out_list.put_opted_out(kind, phone))
        results.append(
            opt_out_list.Reconciled(
                kind=kind,
                at_aws=len(at_aws),
                opted_in_here=tuple(sorted(s.phone for s in opted_in)),
                pushed=pushed,
                missing_at_aws=len(missing) - pushed,
                at=at,
            )
        )
    if results:
        for subscriber in provider_opt_outs.held_for_review():
            if subscriber.phone not in held_anywhere:
                provider_opt_outs.clear(subscriber.pk, "no longer on AWS's opt-out list")
        opt_out_list.remember(results)
    return results
