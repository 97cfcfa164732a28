"""The consent trail and the bot conversations, read-only."""

from django.contrib import admin
from django.db.models import Q

from smsbot.admin_base import ReadOnlyAdmin
from subscribers.admin.search import PhoneSearchMixin
from subscribers.consent import phone_hash
from subscribers.mirror.admin import MIRROR_ACTIONS, mirror_state
from subscribers.models import ConsentEvent, Conversation


@admin.register(ConsentEvent)
class ConsentEventAdmin(PhoneSearchMixin, ReadOnlyAdmin):
    list_display = ["created_at", "subscriber", "from_status", "to_status", "source"]
    list_filter = ["source", "to_status", "created_at"]
    list_select_related = ["subscriber"]
    search_fields = ["phone_hash"]
    search_help_text = "A phone number in any format (matched by its hash, so erased numbers too)."

    def phone_filter(self, e164: str) -> Q:
        return Q(phone_hash=phone_hash(e164))


@admin.register(Conversation)
class ConversationAdmin(PhoneSearchMixin, ReadOnlyAdmin):
    list_display = [
        "phone_number",
        "conversation_state",
        "message_count",
        "updated_at",
        mirror_state,
    ]
    list_filter = ["conversation_state"]
    actions = MIRROR_ACTIONS
    search_fields = ["=phone_number"]
    phone_field = "phone_number"
