"""A message as an e-mail: subject, plain text, simple HTML and the list headers.

The daily content's first line (cut at a word) is the subject. The footer says who
sends it and why, how to stop it, and the sender's postal address
(EMAIL_POSTAL_ADDRESS), as the CAN-SPAM Act requires of every such e-mail. Links
are signed when the e-mail is made, never stored in the message log.
"""

from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.template.loader import render_to_string

from messaging.models import Message, MessageKind
from subscribers import email_links
from subscribers.models import AddressKind, ConsentEvent, Subscriber

SUBJECT_CHARS = 78
CONFIRM_SUBJECT = "Please confirm your e-mail address"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def subject_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= SUBJECT_CHARS:
        return first or "Your daily message"
    return first[: SUBJECT_CHARS - 1].rsplit(" ", 1)[0] + "…"


def sender_name() -> str:
    name, address = parseaddr(settings.EMAIL_FROM)
    return name or address.partition("@")[2] or address


def render(message: Message, subscriber: Subscriber) -> Email:
    unsubscribe = email_links.unsubscribe_url(subscriber)
    context = {
        "sender": sender_name(),
        "postal_address": settings.EMAIL_POSTAL_ADDRESS,
        "unsubscribe_url": unsubscribe,
        "optin_url": settings.PUBLIC_BASE_URL + "/optin/",
    }
    if message.kind == MessageKind.CONFIRMATION:
        pending = (
            ConsentEvent.objects.filter(subscriber=subscriber, address_kind=AddressKind.EMAIL)
            .order_by("-created_at", "-id")
            .first()
        )
        context["confirm_url"] = email_links.confirm_url(subscriber, pending)
        template, subject = "confirm", CONFIRM_SUBJECT
    else:
        context["body"] = message.body
        template, subject = "daily", subject_of(message.body)
    return Email(
        to=subscriber.email,
        subject=subject,
        text=render_to_string(f"messaging/email/{template}.txt", context),
        html=render_to_string(f"messaging/email/{template}.html", context),
        # RFC 2369 and RFC 8058: mailbox providers show an unsubscribe button that
        # POSTs "List-Unsubscribe=One-Click" to the URL.
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
