"""What a broadcast caused, recorded as each inbound arrives.

An inbound from a number that was sent a broadcast message within
BROADCAST_ATTRIBUTION_HOURS is attributed to that broadcast (the latest, when
several): the inbound keeps its id (Message.after_broadcast) and the
broadcast's rollup row (BroadcastAttribution) counts it once, as a STOP that
opted the number out, a PAUSE, or a reply. Finding the broadcast is one query
on the (phone, direction, created_at) index; counting is one update. Screens
read the rollup, never the message table.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from messaging.models import BroadcastAttribution, Direction, Message, MessageKind


class Caused:
    """The rollup column an inbound counts in."""

    REPLY = "replies"
    STOP = "stops"
    PAUSE = "pauses"


# A broadcast message may wait after it is made (quiet hours, retries) before it is
# sent: the indexed range on created_at reaches back this much further than the window.
LONGEST_WAIT = timedelta(days=2)


def window() -> timedelta:
    return timedelta(hours=settings.BROADCAST_ATTRIBUTION_HOURS)


def preceding_broadcast(phone: str, now: datetime) -> int | None:
    """The broadcast whose message was sent to phone last, within the window; None if none."""
    since = now - window()
    return (
        Message.objects.filter(
            phone=phone,
            direction=Direction.OUTBOUND,
            created_at__gte=since - LONGEST_WAIT,
            kind=MessageKind.BROADCAST,
            broadcast__isnull=False,
            sent_at__gte=since,
            sent_at__lte=now,
        )
        .order_by("-sent_at", "-id")
        .values_list("broadcast_id", flat=True)
        .first()
    )


def count(broadcast_id: int, caused: str) -> None:
    """One more inbound of this kind for the broadcast (inside the caller's transaction)."""
    bump = {caused: F(caused) + 1}
    if BroadcastAttribution.objects.filter(broadcast_id=broadcast_id).update(**bump):
        return
    try:
        with transaction.atomic():
            BroadcastAttribution.objects.create(broadcast_id=broadcast_id, **{caused: 1})
    except IntegrityError:  # another inbound made the row first
        BroadcastAttribution.objects.filter(broadcast_id=broadcast_id).update(**bump)
