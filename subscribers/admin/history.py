"""The consent trail and the bot conversations, read-only."""

import json
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from smsbot.admin_base import ReadOnlyAdmin
from smsbot.admin_filters import ChoicesInFilter, DateRangeFilter
from subscribers.admin.mirroring import MirrorWhenOnMixin
from subscribers.admin.page import PageContextMixin
from subscribers.admin.search import PhoneSearchMixin
from subscribers.consent import phone_hash
from subscribers.history import line, sentence, when
from subscribers.mirror.admin import MIRROR_ACTIONS, mirror_state
from subscribers.models import ConsentEvent, Conversation, Subscriber

TEXT_LENGTH = 60


def subscriber_link(subscriber_id: int | None, phone: str) -> str:
    if subscriber_id is None:
        return phone
    url = reverse("admin:subscribers_subscriber_change", args=[subscriber_id])
    return format_html('<a href="{}">{}</a>', url, phone)


def shortened(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TEXT_LENGTH else text[: TEXT_LENGTH - 1] + "…"


class NewStatusFilter(ChoicesInFilter):
    """The to_status filter, titled as operators say it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "new status"


@admin.register(ConsentEvent)
class ConsentEventAdmin(PageContextMixin, PhoneSearchMixin, ReadOnlyAdmin):
    list_display = ["happened", "number", "what_happened"]
    list_display_links = ["what_happened"]
    list_filter = ["source", ("to_status", NewStatusFilter), ("created_at", DateRangeFilter)]
    list_select_related = ["subscriber"]
    search_fields = ["phone_hash"]
    search_help_text = "A phone number in any format (matched by its hash, so erased numbers too)."
    fields = [
        "happened",
        "number",
        "what_happened",
        "from_status",
        "to_status",
        "source",
        "evidence_display",
    ]
    readonly_fields = fields

    def phone_filter(self, e164: str) -> Q:
        return Q(phone_hash=phone_hash(e164))

    def page_context(self, request: HttpRequest, obj: ConsentEvent) -> dict[str, Any]:
        return {"subtitle": sentence(obj)}

    @admin.display(description="When", ordering="created_at")
    def happened(self, obj: ConsentEvent) -> str:
        return when(obj.created_at)

    @admin.display(description="Number", ordering="subscriber__phone")
    def number(self, obj: ConsentEvent) -> str:
        return subscriber_link(obj.subscriber_id, obj.subscriber.phone)

    @admin.display(description="What happened")
    def what_happened(self, obj: ConsentEvent) -> str:
        return line(obj)

    @admin.display(description="Evidence")
    def evidence_display(self, obj: ConsentEvent) -> str:
        text = json.dumps(obj.evidence, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="subscriber-json">{}</pre>', text)


@admin.register(Conversation)
class ConversationAdmin(MirrorWhenOnMixin, PhoneSearchMixin, ReadOnlyAdmin):
    list_display = ["number", "conversation_state", "message_count", "last_text", "updated"]
    list_display_links = ["conversation_state"]
    list_filter = ["conversation_state"]
    actions = MIRROR_ACTIONS
    search_fields = ["=phone_number"]
    phone_field = "phone_number"
    fields = [
        "phone_number",
        "conversation_state",
        "message_count",
        "last_message",
        "last_response",
        "user_context",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [mirror_state]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The subscriber with the same number, for a link to its page (one indexed lookup).
        subscriber = Subscriber.objects.filter(phone=OuterRef("phone_number")).values("id")[:1]
        return super().get_queryset(request).annotate(subscriber_id=Subquery(subscriber))

    def get_list_display(self, request: HttpRequest) -> list:
        shown = list(super().get_list_display(request))
        # The mirror's state means something only while the mirror runs.
        return [*shown, mirror_state] if settings.DYNAMODB_SYNC_ENABLED else shown

    def get_fields(self, request: HttpRequest, obj: Conversation | None = None) -> list:
        fields = list(self.fields)
        return [*fields, mirror_state] if settings.DYNAMODB_SYNC_ENABLED else fields

    @admin.display(description="Number", ordering="phone_number")
    def number(self, obj: Conversation) -> str:
        return subscriber_link(getattr(obj, "subscriber_id", None), obj.phone_number)

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj: Conversation) -> str:
        return when(obj.updated_at)

    @admin.display(description="Last message")
    def last_text(self, obj: Conversation) -> str:
        return shortened(obj.last_message)
