"""Bot replies: a pluggable handler named by settings.BOT_HANDLER.

A handler is any callable taking a BotInput and returning a BotReply (or just
the reply text). It runs inside the webhook's transaction, so it must answer
fast and call no provider; it may read the database.
"""

import logging
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from messaging.broadcasts.schedule import content_zone
from messaging.inbound.keywords import normalize
from messaging.models import DailyContent
from subscribers.localtime import local_date

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotInput:
    phone: str  # E.164
    channel: str  # "sms" or "whatsapp"
    text: str
    state: str  # Conversation.conversation_state before this message
    context: dict[str, Any]  # Conversation.user_context before this message
    message_count: int  # messages received before this one
    consent_status: str  # "" for a number with no subscriber record
    # The subscriber's IANA timezone; "" for a number with no subscriber record.
    timezone: str = ""


@dataclass(frozen=True)
class BotReply:
    text: str
    # None keeps the conversation's current state / context.
    state: str | None = None
    context: dict[str, Any] | None = field(default=None)


def content_today(message: BotInput) -> date:
    """The date of the daily content this number gets today (see content_zone)."""
    return local_date(timezone.now(), content_zone(message.timezone))


def default_handler(message: BotInput) -> BotReply:
    """TODAY answers with today's daily content; anything else gets the menu."""
    if normalize(message.text) == "today":
        content = DailyContent.objects.filter(date=content_today(message)).first()
        text = content.text if content else "There is no message for today yet."
        return BotReply(text, state="today")
    return BotReply(settings.BOT_MENU_TEXT, state="menu")


@cache
def _load(path: str) -> Any:
    return import_string(path)


def respond(message: BotInput) -> BotReply:
    """The configured handler's reply; a failing handler falls back to the menu."""
    try:
        reply = _load(settings.BOT_HANDLER)(message)
    except Exception:  # a bot bug must not lose the inbound or fail the webhook
        log.exception("bot handler %s failed; answering with the menu", settings.BOT_HANDLER)
        return BotReply(settings.BOT_MENU_TEXT, state="error")
    if isinstance(reply, str):
        return BotReply(reply)
    return reply
