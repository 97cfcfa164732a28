"""Admin pieces for the DynamoDB mirror: a re-sync action and the mirror state.

Wired into SubscriberAdmin and ConversationAdmin:
    actions = [..., *MIRROR_ACTIONS]
    readonly_fields = [..., mirror_state]; list_display = [..., mirror_state]
"""

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from smsbot import audit, timezones
from smsbot.celery import BULK_QUEUE
from smsbot.outbox import enqueue
from subscribers.mirror.write import spec_for
from subscribers.models import MirrorState


# Re-sync only copies the portal's own data to the mirror again; anyone who may
# see the rows (conversations are read-only in the admin) may ask for it.
@admin.action(description="Re-sync to DynamoDB", permissions=["view"])
def resync_to_dynamodb(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> None:
    if not settings.DYNAMODB_SYNC_ENABLED:
        modeladmin.message_user(
            request,
            "DynamoDB sync is off (DYNAMODB_SYNC_ENABLED); nothing queued.",
            messages.WARNING,
        )
        return
    spec = spec_for(queryset.model)
    rows = list(queryset.filter(**spec.live_filter))
    with transaction.atomic():
        for row in rows:
            enqueue(spec.task_name, row.pk, queue=BULK_QUEUE)
        audit.record(request.user, rows, "Queued a re-sync to DynamoDB")
    modeladmin.message_user(request, f"{len(rows)} queued for DynamoDB.", messages.SUCCESS)


MIRROR_ACTIONS = [resync_to_dynamodb]


@admin.display(description="DynamoDB mirror")
def mirror_state(obj: MirrorState) -> str:
    """In sync / behind / failed, with the last synced version and time."""
    if getattr(obj, "erased_at", None):
        return "erased: not mirrored"
    synced = (
        f"v{obj.mirror_synced_version} at {timezones.shown(obj.mirror_synced_at)}"
        if obj.mirror_synced_at
        else "never synced"
    )
    if obj.mirror_error:
        return f"failed (v{obj.version} in database; last synced {synced}): {obj.mirror_error}"
    if obj.mirror_synced_version >= obj.version:
        return f"in sync ({synced})"
    return f"behind: v{obj.version} in database, last synced {synced}"
