"""The per-number bot conversation (subscribers.Conversation)."""

from django.db import IntegrityError, transaction

from messaging.inbound.bot import BotInput, BotReply, respond
from subscribers.models import Conversation

CHANGED_BY_A_MESSAGE = [
    "message_count",
    "last_message",
    "last_response",
    "conversation_state",
    "user_context",
]


def _lock(phone: str) -> Conversation:
    """The number's conversation, locked for this transaction; created if new."""
    conversation = Conversation.objects.select_for_update().filter(phone_number=phone).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(phone_number=phone)
    except IntegrityError:
        # Another message from the same number created it a moment ago.
        return Conversation.objects.select_for_update().get(phone_number=phone)


def converse(
    phone: str,
    channel: str,
    text: str,
    consent_status: str,
    *,
    zone: str = "",
    silent: bool = False,
) -> BotReply:
    """Ask the bot for a reply and record the exchange; call inside a transaction.

    zone is the subscriber's timezone ("" without one). silent records the message
    without asking the bot (a number that opted out is not answered).
    """
    conversation = _lock(phone)
    if silent:
        reply = BotReply("")
    else:
        reply = respond(
            BotInput(
                phone=phone,
                channel=channel,
                text=text,
                state=conversation.conversation_state,
                context=dict(conversation.user_context or {}),
                message_count=conversation.message_count,
                consent_status=consent_status,
                timezone=zone,
            )
        )
    conversation.message_count += 1
    conversation.last_message = text
    conversation.last_response = reply.text
    if reply.state is not None:
        conversation.conversation_state = reply.state[:50]
    if reply.context is not None:
        conversation.user_context = reply.context
    # Only what the exchange changed: the mirror's own columns are not ours to write.
    conversation.save(update_fields=CHANGED_BY_A_MESSAGE)
    return reply
