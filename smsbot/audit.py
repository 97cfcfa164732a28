"""The operator audit trail: who did what to which object, when, before → after.

It is Django's own admin log (LogEntry, django_admin_log): the admin's plain
adds, edits and deletes already go there, and every other state-changing
action an operator takes (pausing a broadcast, opting a number out, an import,
a schedule change) is recorded here through record(). Each object's "History"
page lists its entries; the admin's Audit log lists them all. Entries are
never edited or deleted.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models

__all__ = ["ADDITION", "CHANGE", "DELETION", "describe", "record", "record_for_model"]

Changes = Mapping[str, tuple[Any, Any]]


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
