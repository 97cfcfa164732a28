"""Admin base classes every app's screens build on."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from smsbot.pagination import CheapCountPaginator


class ActionsNeedPermissionMixin:
    """An admin action that declares no permissions= needs the change permission.

    Django offers such an action to everyone who can open the list; here the
    safe default applies instead, to third-party actions too (PortalAdminSite
    mixes this into every ModelAdmin). Actions that only read, or that a
    view-only role may run, say so with permissions=["view"].
    """

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.has_change_permission(request):  # type: ignore[attr-defined]
            return actions
        return {
            name: action
            for name, action in actions.items()
            if getattr(action[0], "allowed_permissions", ())
        }


class OperatorTitlesMixin:
    """Page titles in the words an operator uses, for every list and record page.

    Django titles a list "Select subscriber to change" and a record "Change
    subscriber"; here a list is titled by what it holds ("Subscribers") and a
    record by its own name (the subscriber's number). A title an admin chose
    itself is kept. PortalAdminSite mixes this into every ModelAdmin.
    """

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        # A popup asks to pick a row: its "Select subscriber" says just that.
        if not changelist.is_popup:
            changelist.title = capfirst(self.opts.verbose_name_plural)  # type: ignore[attr-defined]
        return changelist

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> TemplateResponse:
        name = self.opts.verbose_name  # type: ignore[attr-defined]
        if context.get("title") in {gettext(f) % name for f in ("Add %s", "Change %s", "View %s")}:
            # The record's name is the title (or the sentence an admin gave as its
            # subtitle); the breadcrumbs above it say what kind of record it is.
            named = context.get("subtitle") or (str(obj) if obj is not None else f"New {name}")
            context.update(title=named, subtitle=None)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )


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


class VersionedAdmin(SimpleHistoryAdmin):
    """History lists the row's versions (django-simple-history), with what each changed.

    Versions are read, never restored from there: a restore would be an edit that
    skips the edit form's checks (django-simple-history's revert only asks for the
    view permission), so its page answers GET only.
    """

    object_history_list_template = "admin/version_history_list.html"

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
