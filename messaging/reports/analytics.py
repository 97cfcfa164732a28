"""Daily aggregates for the BotAnalytics table: one item per (date, metric_type)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, Sum
from django.utils import timezone

from messaging.models import COST, Direction, Message, MessageStatus
from smsbot.aws import resource_name
from subscribers.mirror.write import batch_write, iso, put_request
from subscribers.models import ConsentEvent, ConsentStatus

METRICS = ("messages_sent", "delivered", "failed", "opt_ins", "opt_outs", "spend_usd")
SPEND_PLACES = Decimal("0.00001")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def daily_metrics(day: date) -> dict[str, Decimal]:
    """One UTC day's figures, each counted on the day its event happened.

    Sent and spend go by sent_at, delivered by delivered_at, failed by the last
    update of a failed message (its failure); spend is the actual price when
    the provider reported one, else the estimate.
    """
    start, end = day_bounds(day)
    outbound = Message.objects.filter(direction=Direction.OUTBOUND)
    sent = outbound.filter(sent_at__gte=start, sent_at__lt=end)
    spend = sent.aggregate(
        total=Sum(COST, output_field=DecimalField(max_digits=14, decimal_places=5))
    )["total"]
    events = ConsentEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    figures = {
        "messages_sent": sent.count(),
        "delivered": outbound.filter(delivered_at__gte=start, delivered_at__lt=end).count(),
        "failed": outbound.filter(
            status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED],
            updated_at__gte=start,
            updated_at__lt=end,
        ).count(),
        "opt_ins": events.filter(to_status=ConsentStatus.OPTED_IN).count(),
        "opt_outs": events.filter(to_status=ConsentStatus.OPTED_OUT).count(),
    }
    out = {name: Decimal(value) for name, value in figures.items()}
    out["spend_usd"] = Decimal(spend or 0).quantize(SPEND_PLACES)
    return out


def write_daily(day: date) -> dict[str, Decimal]:
    """Compute day's figures and write them; a second run overwrites with fresh figures."""
    figures = daily_metrics(day)
    now = iso(timezone.now())
    items = [
        {"date": day.isoformat(), "metric_type": name, "value": figures[name], "updated_at": now}
        for name in METRICS
    ]
    batch_write(resource_name(settings.DYNAMODB_ANALYTICS_TABLE), [put_request(i) for i in items])
    return figures
