"""Where other apps plug into the subscribers app, which must not import them.

Messaging knows what a subscriber's messages look like and what a message
costs; the subscribers app only shows and counts. So messaging fills these
hooks when it is loaded, and the subscribers app asks them:

- subscriber panels: each source gets (request, subscriber) and returns a
  Panel (a template and its context) for the subscriber's admin page, or None
  when it has nothing to show that user. Messaging adds the conversation thread.
- the confirmation price: (phone, channel) -> the estimated USD price of one
  double opt-in confirmation message, used by the import's preview.
- held per source: (signup_source) -> how many confirmations of sign-ups from that
  source the hourly cap holds now; the sign-up doors refuse a source holding
  OPTIN_HELD_PER_SOURCE.
- local delivery: () -> whether the daily message goes out at each subscriber's
  own local time; the opt-in form asks for a preferred time only then.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from subscribers.models import Subscriber


@dataclass(frozen=True)
class Panel:
    """A section of the subscriber page: `template` is rendered with `context`."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # Static paths of the stylesheets the template needs (put in the page's head).
    stylesheets: tuple[str, ...] = ()
    # How many items (messages, events) it shows: the page says "no conversation
    # yet" only when no panel shows any.
    shown: int = 0


PanelSource = Callable[[HttpRequest, Subscriber], Panel | None]
ConfirmationPricer = Callable[[str, str], Decimal]
LocalDeliveryCheck = Callable[[], bool]
HeldCounter = Callable[[str], int]
# The subscriber's local date of their next daily message after a moment; None with
# the schedule off.
NextSendDay = Callable[[Subscriber, datetime], date | None]

# Keyed by the function's qualified name, so a module imported twice registers once.
_panel_sources: dict[str, PanelSource] = {}
_pricer: ConfirmationPricer | None = None
_local_delivery: LocalDeliveryCheck | None = None
_held_counter: HeldCounter | None = None
_next_send_day: NextSendDay | None = None


def add_subscriber_panel(source: PanelSource) -> PanelSource:
    """Register a panel source (usable as a decorator); panels show in registration order."""
    _panel_sources[f"{source.__module__}.{source.__qualname__}"] = source
    return source


def subscriber_panels(request: HttpRequest, subscriber: Subscriber) -> list[Panel]:
    panels = (source(request, subscriber) for source in _panel_sources.values())
    return [panel for panel in panels if panel is not None]


def set_confirmation_pricer(pricer: ConfirmationPricer) -> ConfirmationPricer:
    """The one function that prices a confirmation message (usable as a decorator)."""
    global _pricer
    _pricer = pricer
    return pricer


def confirmation_price(phone: str, channel: str) -> Decimal | None:
    """USD for one confirmation to this number on this channel; None when nobody prices it."""
    return None if _pricer is None else _pricer(phone, channel)


def set_held_counter(counter: HeldCounter) -> HeldCounter:
    """The one function that counts a sign-up source's held confirmations."""
    global _held_counter
    _held_counter = counter
    return counter


def held_from(signup_source: str) -> int:
    """Confirmations held now for sign-ups from this source; 0 when nobody counts them."""
    return 0 if _held_counter is None else _held_counter(signup_source)


def set_local_delivery_check(check: LocalDeliveryCheck) -> LocalDeliveryCheck:
    """The one function that says whether delivery follows each subscriber's clock."""
    global _local_delivery
    _local_delivery = check
    return check


def local_delivery() -> bool:
    return _local_delivery is not None and _local_delivery()


def set_next_send_day(source: NextSendDay) -> NextSendDay:
    """Register the function that knows the daily schedule (usable as a decorator)."""
    global _next_send_day
    _next_send_day = source
    return source


def next_send_day(subscriber: Subscriber, now: datetime) -> date | None:
    return _next_send_day(subscriber, now) if _next_send_day else None
