"""Broadcasts and daily content."""

from django.contrib import admin

from .models import Broadcast, DailyContent


@admin.register(DailyContent)
class DailyContentAdmin(admin.ModelAdmin):
    list_display = ["date", "text"]
    date_hierarchy = "date"


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "total", "sent", "failed", "skipped", "created_at"]
    list_filter = ["state"]
