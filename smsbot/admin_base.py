"""Admin base classes every app's screens build on."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from smsbot.pagination import CheapCountPaginator


class ReadOnlyMixin:
    """Viewable with the view permission; nobody adds, edits or deletes, not even a superuser."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LargeListMixin:
    """Lists that stay fast over millions of rows: no full COUNT(*), no facet counts."""

    paginator = CheapCountPaginator
    show_full_result_count = False
    # Facet counts are one COUNT per filter choice over the whole table.
    show_facets = admin.ShowFacets.NEVER


class ReadOnlyAdmin(ReadOnlyMixin, LargeListMixin, admin.ModelAdmin):
    """A record to read: messages, delivery events, consent events, provider calls."""
