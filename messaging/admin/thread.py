"""The conversation thread on a subscriber's admin page.

The subscribers app does not know messages (it must not import messaging), so
its page asks the panels registered in subscribers.hooks; this module adds one:
the number's latest messages as a thread of inbound and outbound bubbles, each
with its status, linked to the message's own page.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.text import capfirst

from messaging import outcomes
from messaging.delivery import error_codes
from messaging.models import Direction, Message, MessageStatus
from subscribers import hooks
from subscribers.history import when
from subscribers.models import Subscriber

THREAD_LENGTH = 30
BODY_LENGTH = 600

# How a status reads at a glance: good, still on its way, bad, or for a person to check.
TONES = {
    MessageStatus.RECEIVED: "good",
    MessageStatus.DELIVERED: "good",
    MessageStatus.READ: "good",
    MessageStatus.SENT: "good",
    MessageStatus.QUEUED: "waiting",
    MessageStatus.SENDING: "waiting",
    MessageStatus.HELD: "waiting",
    MessageStatus.FAILED: "bad",
    MessageStatus.UNDELIVERED: "bad",
    MessageStatus.NEEDS_REVIEW: "review",
    MessageStatus.UNKNOWN: "review",
    MessageStatus.SKIPPED: "quiet",
}


@dataclass(frozen=True)
class Bubble:
    inbound: bool
    text: str
    kind: str
    when: str
    status: str
    tone: str
    problem: str
    url: str


def text_of(message: Message) -> str:
    body = " ".join(message.body.split()) if message.body else ""
    if not body and message.content_sid:
        return f"WhatsApp template {message.content_sid}"
    if len(body) > BODY_LENGTH:
        return body[: BODY_LENGTH - 1] + "…"
    return body or "(no text)"


def bubble(message: Message) -> Bubble:
    inbound = message.direction == Direction.INBOUND
    problem = ""
    if message.error_code:
        problem = f"{message.error_code}: {error_codes.meaning(message.error_code) or 'unknown'}"
    # A held message says until when and why, as the message list and its broadcast do.
    hold = outcomes.hold_of(message)
    return Bubble(
        inbound=inbound,
        text=text_of(message),
        kind="" if inbound else message.get_kind_display(),
        when=when(message.created_at),
        status=capfirst(hold.words()) if hold else message.get_status_display(),
        tone=TONES.get(message.status, "quiet"),
        problem=problem,
        url=reverse("admin:messaging_message_change", args=[message.pk]),
    )


@hooks.add_subscriber_panel
def thread_panel(request: HttpRequest, subscriber: Subscriber) -> hooks.Panel | None:
    if not request.user.has_perm("messaging.view_message"):
        return None
    latest = list(
        Message.objects.filter(phone=subscriber.phone)
        .select_related("broadcast")  # a queued message of a paused broadcast is held
        .order_by("-created_at", "-id")[: THREAD_LENGTH + 1]
    )
    bubbles = [bubble(m) for m in reversed(latest[:THREAD_LENGTH])]  # oldest first, as a chat
    context: dict[str, Any] = {
        "bubbles": bubbles,
        "more": len(latest) > THREAD_LENGTH,
        "shown": len(bubbles),
        "all_url": reverse("admin:messaging_message_changelist")
        + "?"
        + urlencode({"phone__exact": subscriber.phone}),
    }
    return hooks.Panel(
        "admin/messaging/thread.html", context, ("messaging/thread.css",), shown=len(bubbles)
    )
