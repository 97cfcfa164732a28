"""The message log: messages, delivery events and provider calls, read-only."""

from django.contrib import admin

from .models import DeliveryEvent, Message, ProviderCall


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "direction", "kind", "channel", "provider", "status"]
    list_filter = ["status", "provider", "channel", "direction", "kind"]
    search_fields = ["=phone", "=provider_message_id"]
    show_full_result_count = False


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "status", "error_code"]
    list_filter = ["provider", "status"]


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "operation", "outcome", "duration_ms"]
    list_filter = ["provider", "outcome"]
