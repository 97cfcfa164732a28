"""List filters whose sidebar shows what the URL applies.

Links from the dashboard and the broadcast pages open lists with lookups Django's
stock filters do not take as theirs (`status__in=failed,undelivered`, a date range
of the reports' own days): the list was filtered while its sidebar said "All".
These filters take those lookups and show them as the selected choice.
The audit log's object types are named as their own screens name them.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.text import capfirst


def _without(query_string: str, *names: str) -> str:
    kept = [(k, v) for k, v in parse_qsl(query_string.lstrip("?")) if k not in names]
    return f"?{urlencode(kept)}"


class ChoicesInFilter(admin.ChoicesFieldListFilter):
    """A choices field's filter that also understands `<field>__in=a,b`: one value
    selects its choice, several show as one selected choice "A or B"."""

    def __init__(
        self, field: Any, request: Any, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        self.lookup_kwarg_in = f"{field_path}__in"
        super().__init__(field, request, params, model, model_admin, field_path)
        # Django keeps every occurrence of the parameter, each split at its commas.
        given = self.used_parameters.get(self.lookup_kwarg_in) or [[]]
        self.lookup_val_in = [str(v) for v in given[-1]]

    def expected_parameters(self) -> list[str]:
        return [*super().expected_parameters(), self.lookup_kwarg_in]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        chosen = self.lookup_val_in
        labels = {str(value): label for value, label in self.field.flatchoices}
        if len(chosen) > 1:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(),
                "display": " or ".join(str(labels.get(v, v)) for v in chosen),
            }
        for choice in super().choices(changelist):
            choice["query_string"] = _without(choice["query_string"], self.lookup_kwarg_in)
            if chosen:
                # "All" and the single choices are selected by the exact lookup only.
                value = parse_qsl(choice["query_string"].lstrip("?"))
                exact = dict(value).get(self.lookup_kwarg)
                choice["selected"] = len(chosen) == 1 and exact == chosen[0]
            yield choice


class DateRangeFilter(admin.DateFieldListFilter):
    """Django's date filter, and a selected "From … until …" for a range of other days
    than its own (the dashboard's links give the reports' UTC days)."""

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        offered = list(super().choices(changelist))
        yield from offered
        since, until = (
            self.date_params.get(self.lookup_kwarg_since),
            self.date_params.get(self.lookup_kwarg_until),
        )
        if (since or until) and not any(c["selected"] for c in offered):
            words = [f"From {since[:10]}" if since else "", f"until {until[:10]}" if until else ""]
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(),
                "display": " ".join(w for w in words if w).capitalize(),
            }


class ObjectKindFilter(admin.RelatedOnlyFieldListFilter):
    """The kinds of object a list's rows are about ("Broadcast", "Daily content"), in the
    words of their own screens: Django's would say "Messaging | daily content"."""

    def __init__(
        self, field: Any, request: Any, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "object type"

    @property
    def include_empty_choice(self) -> bool:
        # Every entry smsbot.audit writes names its type: a "-" choice would list nothing.
        return False

    def field_choices(self, field: Any, request: Any, model_admin: Any) -> list[tuple[Any, str]]:
        used = model_admin.get_queryset(request).values_list(f"{self.field_path}__pk", flat=True)
        kinds = ContentType.objects.filter(pk__in=used.order_by().distinct())
        return sorted(((kind.pk, capfirst(kind.name)) for kind in kinds), key=lambda c: c[1])
