from django.contrib import admin

from .models import Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["phone", "channel", "consent_status", "consent_source", "created_at"]
    list_filter = ["consent_status", "channel"]
    search_fields = ["=phone"]
    show_full_result_count = False
