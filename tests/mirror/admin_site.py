"""A test admin site wiring the mirror's admin pieces as SubscriberAdmin will."""

from django.contrib import admin
from django.urls import path

from subscribers.mirror.admin import MIRROR_ACTIONS, mirror_state
from subscribers.models import Subscriber

site = admin.AdminSite(name="mirror_test_admin")


@admin.register(Subscriber, site=site)
class SubscriberMirrorAdmin(admin.ModelAdmin):
    list_display = ["phone", "consent_status", mirror_state]
    readonly_fields = [mirror_state]
    actions = MIRROR_ACTIONS


urlpatterns = [path("admin/", site.urls)]
