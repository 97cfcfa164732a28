"""The DynamoDB mirror in the subscribers screens: offered only while it runs."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from subscribers.mirror.admin import MIRROR_ACTIONS


class MirrorWhenOnMixin:
    """Leaves the Re-sync action out of the list while DYNAMODB_SYNC_ENABLED is off."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not settings.DYNAMODB_SYNC_ENABLED:
            for action in MIRROR_ACTIONS:
                actions.pop(action.__name__, None)
        return actions
