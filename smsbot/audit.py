"""The operator audit trail: who did what to which object, when, before → after.

It is Django's own admin log (LogEntry, django_admin_log): the admin's plain
adds, edits and deletes already go there, and every other state-changing
action an operator takes (pausing a broadcast, opting a number out, an import,
a schedule change) is recorded here through record(). Each object's "History"
page lists its entries; the admin's Audit log lists them all. Entries are
never edited or deleted.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from smsbot import timezones
from smsbot.redaction import SECRET_KEYS

__all__ = [
    "ADDITION",
    "CHANGE",
    "DELETION",
    "AppendOnlyError",
    "AuditedEditsMixin",
    "AuditedImportsMixin",
    "describe",
    "describe_form",
    "record",
    "record_for_model",
]

Changes = Mapping[str, tuple[Any, Any]]


class AppendOnlyError(Exception):
    """An audit entry was about to be changed or deleted."""


def refuse_update(sender: type, instance: LogEntry, raw: bool = False, **kwargs: Any) -> None:
    """pre_save of LogEntry: new entries only (on PostgreSQL a trigger refuses raw SQL too)."""
    if not instance._state.adding:
        raise AppendOnlyError(f"audit entry {instance.pk} cannot be changed")


def refuse_delete(sender: type, instance: LogEntry, **kwargs: Any) -> None:
    """pre_delete of LogEntry, also when it would go with its user: deactivate users instead."""
    raise AppendOnlyError(f"audit entry {instance.pk} cannot be deleted")


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "(empty)"
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def describe(verb: str, changes: Changes | None = None, detail: str = "") -> str:
    """'Paused: state: sending → paused (reason: budget)' — one readable line."""
    parts = [
        f"{name}: {_shown(before)} → {_shown(after)}"
        for name, (before, after) in (changes or {}).items()
    ]
    text = verb + (": " + "; ".join(parts) if parts else "")
    return f"{text} ({detail})" if detail else text


def record(
    user: Any,
    objects: models.Model | Iterable[models.Model],
    verb: str,
    *,
    changes: Changes | None = None,
    detail: str = "",
    flag: int = CHANGE,
) -> list[LogEntry]:
    """One entry per object, e.g. record(request.user, broadcast, "Paused", changes=...)."""
    rows = [objects] if isinstance(objects, models.Model) else list(objects)
    if not rows:
        return []
    message = describe(verb, changes, detail)[:2000]
    return list(
        LogEntry.objects.log_actions(
            user_id=user.pk, queryset=rows, action_flag=flag, change_message=message
        )
    )


def record_for_model(
    user: Any, model: type[models.Model], verb: str, *, detail: str = "", flag: int = CHANGE
) -> LogEntry:
    """An action on a whole kind of object (an import, an export), not on one row."""
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(model),
        object_id=None,
        object_repr=f"{model._meta.verbose_name_plural}"[:200],
        action_flag=flag,
        change_message=describe(verb, None, detail)[:2000],
    )


def audit_log_url(request: HttpRequest, model_admin: Any, object_id: str) -> str:
    """The audit log filtered on one object, for those who may read the log."""
    if not request.user.has_perm("smsbot.view_auditentry"):
        return ""
    content_type = ContentType.objects.get_for_model(model_admin.model)
    query = urlencode({"content_type__id__exact": content_type.pk, "object_id": object_id})
    return f"{reverse('admin:smsbot_auditentry_changelist')}?{query}"


def _is_secret(name: str, field: forms.Field | None) -> bool:
    lowered = name.lower()
    return (
        (field is not None and isinstance(field.widget, forms.PasswordInput))
        or lowered == "key"
        or any(word in lowered for word in SECRET_KEYS)
    )


def _names(field: forms.ModelMultipleChoiceField, value: Any) -> set[str]:
    items = list(value or [])
    if items and not isinstance(items[0], models.Model):
        items = list(field.queryset.filter(pk__in=items))
    return {str(item) for item in items}


def _readable(field: forms.Field, value: Any) -> Any:
    picks_a_row = isinstance(field, forms.ModelChoiceField) and value not in (None, "")
    if picks_a_row and not isinstance(value, models.Model):
        return field.queryset.filter(pk=value).first()
    if isinstance(value, datetime) and timezone.is_aware(value):
        # Before and after in one zone (the admin's), named: stored values are UTC.
        return timezones.shown(value)
    return value


def describe_form(
    form: forms.BaseForm, formsets: Iterable[Any] | None = None, *, add: bool = False
) -> str:
    """What an admin form's save changed: "Changed: text: old → new; hour: 10 → 9".

    Values come from the form: its initial data (the stored object) before, its
    cleaned data after. Secrets (passwords, keys, tokens) are named, never shown;
    many-to-many fields (a user's groups, a group's permissions) list what was
    added and removed.
    """
    changes: dict[str, tuple[Any, Any]] = {}
    details = []
    for name in form.changed_data:
        # A form may name a change that is no field of its own: the password forms
        # report "password" for their two password fields.
        field = form.fields.get(name)
        label = str(field.label or name) if field else name
        if _is_secret(name, field):
            changes[label] = ("(secret)", "(new secret)")
        elif field is None:
            details.append(f"{label} changed")
        elif isinstance(field, forms.ModelMultipleChoiceField):
            before = set() if add else _names(field, form.initial.get(name))
            after = _names(field, form.cleaned_data.get(name))
            if after - before:
                details.append(f"{label} added: {', '.join(sorted(after - before))}")
            if before - after:
                details.append(f"{label} removed: {', '.join(sorted(before - after))}")
        else:
            before = None if add else _readable(field, form.initial.get(name))
            after = _readable(field, form.cleaned_data.get(name))
            # Forms flag some unchanged values ({} typed back as "{}"): say only real changes.
            if add or _shown(before) != _shown(after):
                changes[label] = (before, after)
    for formset in formsets or []:
        kind = formset.model._meta.verbose_name
        details += [f"added {kind} “{obj}”" for obj in formset.new_objects]
        details += [f"changed {kind} “{obj}”" for obj, _ in formset.changed_objects]
        details += [f"deleted {kind} “{obj}”" for obj in formset.deleted_objects]
    if not (changes or details or add):
        return "No fields changed."
    return describe("Added" if add else "Changed", changes, "; ".join(details))[:2000]


class AuditedEditsMixin:
    """Plain admin adds and edits record before → after in the audit trail.

    Django's admin writes a LogEntry for every add, change and delete made through
    its forms, but records only which fields changed; this makes it record the
    values. PortalAdminSite mixes it into every ModelAdmin registered with it.
    """

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "audit_log_url": audit_log_url(request, self, object_id)}
        return super().history_view(request, object_id, extra)  # type: ignore[misc]

    def construct_change_message(
        self,
        request: HttpRequest,
        form: forms.BaseForm,
        formsets: Iterable[Any] | None,
        add: bool = False,
    ) -> str:
        return describe_form(form, formsets, add=add)


class AuditedImportsMixin:
    """A django-import-export import also records one summary entry for the whole file.

    The library itself logs each imported row (added / changed through import).
    PortalAdminSite mixes this into every import admin registered with it.
    """

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        response = super().process_result(result, request)  # type: ignore[misc]
        record_for_model(
            request.user,
            self.model,  # type: ignore[attr-defined]
            "Imported",
            detail=self.import_summary(result, request),
        )
        return response

    def import_summary(self, result: Any, request: HttpRequest) -> str:
        """What the file did, in words; an import admin may say more."""
        totals = ", ".join(f"{count} {kind}" for kind, count in result.totals.items() if count)
        name = getattr(result, "file_name", "")
        return "; ".join(part for part in (name, totals) if part)
