"""Actual prices of Twilio messages, read from each Message resource after it is final.

Twilio's status callbacks carry MessageStatus and ErrorCode, never the price;
the Message resource (GET /2010-04-01/Accounts/{sid}/Messages/{sid}.json) shows
price, price_unit and num_segments, filled in some time after the final status.
A periodic task (messaging.tasks.fetch_twilio_prices) asks for the messages final
for TWILIO_PRICE_FETCH_AFTER_SECONDS and not yet priced, TWILIO_PRICE_FETCH_BATCH
at most a run, one run at a time across workers, at TWILIO_PRICE_FETCH_RATE
requests a second. A price still null is asked again a run later (the message's
updated_at is the clock), until TWILIO_PRICE_HORIZON_HOURS after the send; a
price in another currency than USD is logged and the estimate kept. Twilio
throttling (429) or failing (5xx, no connection) ends the run: the next one, a
minute later, is the back-off.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from messaging.models import Message, MessageStatus, Provider
from messaging.providers.twilio.client import client

log = logging.getLogger(__name__)

FINAL = (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.UNDELIVERED)
LOCK_KEY = "messaging:twilio-prices:running"
_PRICE_LIMIT = Decimal("100000")


@dataclass
class Fetched:
    priced: int = 0
    pending: int = 0  # Twilio has no price yet: asked again later
    refused: int = 0  # not USD: the estimate stays
    stopped: str = ""  # why the run ended early


def due(now: datetime) -> list[tuple[int, str]]:
    """(id, Twilio sid) of the messages to ask about now, oldest first."""
    return list(
        Message.objects.filter(
            provider=Provider.TWILIO,
            status__in=FINAL,
            price_actual__isnull=True,
            price_unit="USD",
            provider_message_id__isnull=False,
            updated_at__lte=now - timedelta(seconds=settings.TWILIO_PRICE_FETCH_AFTER_SECONDS),
            sent_at__gte=now - timedelta(hours=settings.TWILIO_PRICE_HORIZON_HOURS),
        )
        .order_by("updated_at", "id")
        .values_list("id", "provider_message_id")[: settings.TWILIO_PRICE_FETCH_BATCH]
    )


def fetch_due() -> Fetched:
    """One run: price what is due; skipped while another run holds the lock."""
    if not cache.add(LOCK_KEY, 1, timeout=600):
        return Fetched(stopped="another run is under way")
    try:
        return _fetch(due(timezone.now()))
    finally:
        cache.delete(LOCK_KEY)


def _fetch(due_now: list[tuple[int, str]]) -> Fetched:
    result = Fetched()
    resources = client().messages
    gap = 1.0 / settings.TWILIO_PRICE_FETCH_RATE
    for pk, sid in due_now:
        started = time.monotonic()
        try:
            resource = resources(sid).fetch()
        except TwilioRestException as exc:
            if exc.status == 404:
                _later(pk)  # not (yet) visible: asked again until the horizon
                result.pending += 1
                continue
            result.stopped = f"Twilio answered {exc.status} ({exc.code})"
            break
        except requests.RequestException as exc:
            result.stopped = f"Twilio unreachable: {type(exc).__name__}"
            break
        outcome = record(pk, resource.price, resource.price_unit, resource.num_segments)
        setattr(result, outcome, getattr(result, outcome) + 1)
        time.sleep(max(0.0, gap - (time.monotonic() - started)))
    if result.stopped:
        log.warning("Twilio prices: run ended early: %s", result.stopped)
    return result


def record(pk: int, price: str | None, unit: str | None, segments: str | None) -> str:
    """Write one resource's price as the message's actual cost; the outcome's name."""
    if price in (None, ""):
        _later(pk)
        return "pending"
    if (unit or "").upper() != "USD":
        log.warning("Twilio price of message %s is in %s, not USD: estimate kept", pk, unit)
        Message.objects.filter(pk=pk).update(price_unit=(unit or "?")[:3].upper())
        return "refused"
    try:
        cost = abs(Decimal(price))  # Twilio reports prices as negative amounts
    except InvalidOperation:
        cost = None
    if cost is None or not cost.is_finite() or cost >= _PRICE_LIMIT:
        log.warning("Twilio price of message %s is not a price: %r", pk, price)
        _later(pk)
        return "pending"
    fields: dict[str, object] = {"price_actual": cost.quantize(Decimal("0.00001"))}
    if segments and str(segments).isdigit() and 0 < int(segments) < 32768:
        fields["segments"] = int(segments)
    Message.objects.filter(pk=pk, price_actual__isnull=True).update(
        **fields, updated_at=timezone.now()
    )
    return "priced"


def _later(pk: int) -> None:
    Message.objects.filter(pk=pk).update(updated_at=timezone.now())


def country_sms_price(iso_country: str, number_type: str = "local") -> tuple[Decimal | None, str]:
    """Twilio's outbound SMS price to a country (Pricing API), and its unit.

    The highest current price over the country's carriers for number_type (the
    sender's kind: "local" for a 10DLC long code, "toll free"), so an estimate
    does not fall short; None when Twilio lists none.
    """
    country = client().pricing.v1.messaging.countries(iso_country).fetch()
    prices = [
        Decimal(str(price["current_price"]))
        for carrier in country.outbound_sms_prices or []
        for price in carrier.get("prices", [])
        if price.get("number_type") == number_type and price.get("current_price")
    ]
    return (max(prices) if prices else None), (country.price_unit or "").upper()
