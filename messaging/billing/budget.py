"""Month-to-date spend against SMS_MONTHLY_SPEND_LIMIT_USD, or the AWS account's lower quota.

When an AWS provider sends, the limit is the lower of the setting and the
account's monthly SMS spend quota (smsbot.sms_account): AWS stops sending at its
quota whatever the setting says, so the guard pauses first.

The month is the UTC calendar month, as for SNS's own MonthlySpendLimit. Spend
is the actual price where a provider reported it, the estimate otherwise, of
every outbound message that went (or may have gone) to a provider.

Checking the database before every send would be a full aggregate per message,
so a running total lives in the cache (Redis when REDIS_URL is set): it is
seeded from the database, moved by each reservation, and re-seeded from the
database every SPEND_CACHE_SECONDS so callbacks' actual prices are picked up.
A bulk send *reserves* its estimated cost first — an atomic increment — and is
refused when the total would pass the limit: concurrent workers cannot all
squeeze past the last dollar, and sending stops before the limit is crossed.

admit() is the rule for each message as it goes to a provider: broadcasts and
replies stop at the limit; the answers the law requires (COMPLIANCE: STOP and
HELP, which messaging.inbound.reply_limits already holds to one per number per
day) go past it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from messaging.models import BILLED_STATUSES, COST, Direction, Message, MessageKind
from smsbot import cache_reads, sms_account

log = logging.getLogger(__name__)

# The cache holds integer hundred-thousandths of a dollar (the models' precision).
SCALE = Decimal("100000")
SPEND_CACHE_SECONDS = 60


@dataclass(frozen=True)
class BudgetStatus:
    spent: Decimal
    limit: Decimal

    @property
    def percent(self) -> Decimal:
        if not self.limit:
            return Decimal("100")
        return (self.spent / self.limit * 100).quantize(Decimal("0.1"))

    @property
    def alerting(self) -> bool:
        return self.percent >= settings.SPEND_ALERT_PERCENT

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent_in_database(now: datetime | None = None) -> Decimal:
    """The exact month-to-date spend (uses the created_at index)."""
    total = Message.objects.filter(
        direction=Direction.OUTBOUND,
        created_at__gte=month_start(now),
        status__in=BILLED_STATUSES,
    ).aggregate(total=Sum(COST))["total"]
    return total or Decimal("0")


def cache_key() -> str:
    return f"messaging:spend:{month_start():%Y-%m}"


def _units(amount: Decimal) -> int:
    return int((amount * SCALE).to_integral_value())


def _running_total_units() -> int:
    key = cache_key()
    value = cache_reads.get(key)
    if value is None:
        cache.add(key, _units(spent_in_database()), timeout=SPEND_CACHE_SECONDS)
        value = cache.get(key, 0)
    return int(value)


def _add(units: int) -> int:
    _running_total_units()  # seeds the key if it expired
    try:
        return int(cache.incr(cache_key(), units))
    except ValueError:  # expired between the two calls: seed again
        return _running_total_units() + units


def status() -> BudgetStatus:
    return BudgetStatus(Decimal(_running_total_units()) / SCALE, limit())


def limit() -> Decimal:
    return sms_account.effective_spend_limit()


def reserve(cost: Decimal) -> bool:
    """Count cost against this month unless that would reach past the limit."""
    limit_units = _units(limit())
    total = _add(_units(cost))
    if total > limit_units:
        _add(-_units(cost))
        log.warning("monthly spend limit reached: bulk sending pauses (limit %s USD)", limit())
        return False
    if total * 100 >= limit_units * settings.SPEND_ALERT_PERCENT:
        _alert(Decimal(total) / SCALE)
    return True


# Kinds that go whatever the budget: the law's answers, and the double opt-in question
# and the staff test sends, which have caps of their own (confirmations.hourly_cap,
# broadcasts.testsend).
UNLIMITED = (MessageKind.COMPLIANCE, MessageKind.CONFIRMATION, MessageKind.TEST)
OVER_LIMIT = "withheld: the monthly spend limit (SMS_MONTHLY_SPEND_LIMIT_USD) is reached"


def admit(message: Message) -> bool:
    """Count the message's cost as it goes to a provider; False when the limit stops it."""
    if message.kind in UNLIMITED:
        record(message.price_estimated)
        return True
    return reserve(message.price_estimated)


def release(cost: Decimal) -> None:
    """Give back a reservation whose message did not go out."""
    _add(-_units(cost))


def record(cost: Decimal) -> None:
    """Count a message that goes out whatever the budget (see UNLIMITED)."""
    _add(_units(cost))


def _alert(spent: Decimal) -> None:
    # Once an hour is enough for the log; the admin banner reads status() itself.
    if cache.add(f"{cache_key()}:alerted", True, timeout=3600):
        log.warning(
            "month-to-date SMS spend %s USD is at or above %s%% of the %s USD limit",
            spent,
            settings.SPEND_ALERT_PERCENT,
            limit(),
        )
