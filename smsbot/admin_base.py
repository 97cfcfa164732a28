"""Admin base classes every app's screens build on."""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import NestedObjects
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldError, PermissionDenied, ValidationError
from django.db import DataError, models, router, transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from smsbot import admin_inputs
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


class BoundedInputsMixin:
    """Every field of the admin's forms held to smsbot.admin_inputs: dates in range, JSON
    storable. Declared form fields use admin_inputs' field classes themselves."""

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", admin_inputs.StorableJSONField)
        elif isinstance(db_field, models.ManyToManyField):
            kwargs.setdefault("form_class", admin_inputs.BoundedModelMultipleChoiceField)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        return admin_inputs.bounded(field)


# What a list filter can be refused for: a value the lookup cannot take (a year past
# 9999, a letter for an id, an unknown lookup, one bound for a range), or that the
# database refuses.
REFUSED_FILTER_ERRORS = (
    IncorrectLookupParameters,
    IndexError,  # "?id__range=1": Django's range lookup reads a second bound that is not there
    DataError,
    FieldError,
    ValidationError,
    ValueError,
    OverflowError,
    re.error,
)
REGEX_LOOKUPS = ("__regex", "__iregex")


@contextmanager
def _refusing_filters(request: HttpRequest) -> Iterator[None]:
    try:
        yield
    except REFUSED_FILTER_ERRORS as exc:
        reason = str(exc).replace("\x00", "").splitlines()[0][:200] if str(exc) else ""
        messages.error(
            request,
            "The list could not be filtered that way"
            + (f" ({reason})" if reason else "")
            + "; it is shown without filters.",
        )
        raise IncorrectLookupParameters(exc) from exc


class CheckedChangeList(ChangeList):
    """A list whose filters are checked, and whose page is read here: a filter the
    lookup or the database refuses (NUL, a bad regex, year 99999) sends the operator
    to the unfiltered list with the reason, through Django's IncorrectLookupParameters."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
        with _refusing_filters(request):
            for key, values in self.filter_params.items():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise ValueError("a NUL character (\\x00) in the query")
                if key.endswith(REGEX_LOOKUPS):
                    for value in values:
                        re.compile(value)
            return super().get_queryset(request, exclude_parameters)

    def get_results(self, request: HttpRequest) -> None:
        # The page is read now, inside a savepoint, not while the template renders.
        with _refusing_filters(request), transaction.atomic(using=self.queryset.db):
            super().get_results(request)
            len(self.result_list)


@cache
def _checked(changelist: type[ChangeList]) -> type[ChangeList]:
    if issubclass(changelist, CheckedChangeList):
        return changelist
    return type(changelist.__name__, (CheckedChangeList, changelist), {})


class CheckedFiltersMixin:
    """The ModelAdmin's list is a CheckedChangeList."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _checked(super().get_changelist(request, **kwargs))  # type: ignore[misc]


class ProtectedDeletionsMixin:
    """Audit entries (append-only, smsbot.audit) protect what they would go with, such as
    the user who acted: the delete page names them as Django names PROTECT rows, instead
    of the deletion failing. Deactivate such a user instead."""

    def get_deleted_objects(
        self, objs: Sequence[models.Model], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        if not objs:
            return deleted, counts, perms_needed, protected
        collector = NestedObjects(using=router.db_for_write(objs[0]._meta.model))
        collector.collect(objs)
        entries = sum(
            len(found)
            for model, found in collector.model_objs.items()
            if issubclass(model, LogEntry)
        )
        if entries:
            protected = [
                *protected,
                f"{entries} audit log entr{'y' if entries == 1 else 'ies'}: the audit log "
                "keeps every entry (deactivate a user instead of deleting them)",
            ]
        return deleted, counts, perms_needed, protected


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
