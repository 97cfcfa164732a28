"""The brake: a sending broadcast pauses itself when its delivery reports turn bad.

Two rules, one function (check), run where delivery reports are applied
(messaging.delivery.reports) for each broadcast a batch reported a failure for:

- failures: more than BROADCAST_BRAKE_PERCENT of its last BROADCAST_BRAKE_WINDOW
  final reports are failures, once it has BROADCAST_BRAKE_MIN_REPORTS;
- content blocked: more than CARRIER_FILTER_PERCENT of its last
  CARRIER_FILTER_WINDOW final reports carry a content-blocking code
  (error_codes.CONTENT_BLOCKING: 30007, eum:Spam, eum:Blocked), once it has
  CARRIER_FILTER_MIN_REPORTS: carriers refuse this content, whatever the rate.

The window is one query over the partial index of final reports per broadcast
(deliveryevent_brake_window_idx), and only a failure can raise the rate, so a
delivered report costs nothing here. Pausing is messaging.broadcasts.states.pause
(the one conditional UPDATE from sending; the narrow exception this package's
layout allows): what a paused broadcast had claimed goes on, nothing more is
claimed until an Operations Manager resumes or cancels it, with a reason. The
admin home's banner and the alerts topic say the same (notice): which broadcast,
which errors, what to do.
"""

import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts.states import pause
from messaging.delivery.error_codes import CONTENT_BLOCKING
from messaging.models import Broadcast, DeliveryEvent, MessageStatus
from smsbot import alerts_topic, metrics, outbox
from smsbot.aws_names import METRIC_BROADCAST_BRAKED

log = logging.getLogger(__name__)

# The provider words of final reports, and those of them that say it did not arrive.
FINAL_REPORTS = ("delivered", "read", "undelivered", "failed")
FAILED_REPORTS = (MessageStatus.UNDELIVERED, MessageStatus.FAILED)


@dataclass(frozen=True)
class Verdict:
    rule: str  # "failures" or "content blocked"
    bad: int
    of: int
    errors: tuple[tuple[str, int], ...]  # the window's commonest error codes

    def reason(self, broadcast: Broadcast) -> str:
        """The pause reason: which rule, which errors, what to do (fits 200 characters)."""
        errors = ", ".join(f"{code or 'no code'} ×{n}" for code, n in self.errors)
        if self.rule == "content blocked":
            content = " ".join(broadcast.text.split())
            content = content if len(content) <= 40 else content[:39] + "…"
            todo = f'"{content}": reword it and resume, or cancel'
        else:
            todo = "check the errors and the provider, then resume or cancel"
        return f"brake: {self.rule} in {self.bad} of the last {self.of} reports ({errors}) — {todo}"


def window(broadcast_id: int) -> list[tuple[str, str]]:
    """(status, error code) of its latest final reports, newest first, as many as a rule reads."""
    size = max(settings.BROADCAST_BRAKE_WINDOW, settings.CARRIER_FILTER_WINDOW)
    return list(
        DeliveryEvent.objects.filter(broadcast_id=broadcast_id, status__in=FINAL_REPORTS)
        .order_by("-id")
        .values_list("status", "error_code")[:size]
    )


def verdict(reports: list[tuple[str, str]]) -> Verdict | None:
    """Whether either rule trips on these reports (newest first); None when neither does."""
    blocked = reports[: settings.CARRIER_FILTER_WINDOW]
    hits = [code for _, code in blocked if code in CONTENT_BLOCKING]
    if len(blocked) >= settings.CARRIER_FILTER_MIN_REPORTS and len(hits) * 100 > (
        settings.CARRIER_FILTER_PERCENT * len(blocked)
    ):
        return Verdict("content blocked", len(hits), len(blocked), _commonest(hits))
    recent = reports[: settings.BROADCAST_BRAKE_WINDOW]
    failed = [code for status, code in recent if status in FAILED_REPORTS]
    if len(recent) >= settings.BROADCAST_BRAKE_MIN_REPORTS and len(failed) * 100 > (
        settings.BROADCAST_BRAKE_PERCENT * len(recent)
    ):
        return Verdict("failures", len(failed), len(recent), _commonest(failed))
    return None


def _commonest(codes: list[str]) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(codes).most_common(3))


def check(broadcast_id: int) -> Verdict | None:
    """Pause the broadcast if its latest reports trip the brake; the verdict if it did."""
    found = verdict(window(broadcast_id))
    if found is None:
        return None
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None or not pause(broadcast, found.reason(broadcast), braked=True):
        return None  # not sending (paused already, done, cancelled): nothing to brake
    metrics.record(METRIC_BROADCAST_BRAKED, 1)
    log.warning("broadcast %s braked at %s: %s", broadcast_id, timezone.now(), found)
    # The alerts topic is told from a task, once this transaction has committed.
    outbox.enqueue(task_names.ANNOUNCE_BRAKE, broadcast_id)
    return found


def notice(broadcast: Broadcast) -> str:
    """What the admin home's banner and the alerts topic say of a braked broadcast:
    which one, which rule and errors (its pause reason, with counts), what to do."""
    return (
        f"Broadcast “{broadcast.name}” paused itself — {broadcast.pause_reason}. An Operations "
        "Manager resumes or cancels it on its page, with a reason; nothing it already sent "
        "goes again."
    )


def page_url(broadcast: Broadcast) -> str:
    return reverse("admin:messaging_broadcast_change", args=[broadcast.pk])


def announce(broadcast_id: int) -> str:
    """Publish a braked broadcast's notice, with its page's address, to the alerts topic;
    SNS's MessageId, or "" when it is braked no more (resumed or cancelled meanwhile) or
    nobody is subscribed."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id, braked_at__isnull=False).first()
    if broadcast is None:
        return ""
    url = settings.PUBLIC_BASE_URL.rstrip("/") + page_url(broadcast)
    return alerts_topic.publish(
        f"smsbot: broadcast {broadcast.name} paused by the brake",
        f"{notice(broadcast)}\n\nResume or cancel it here: {url}",
    )
