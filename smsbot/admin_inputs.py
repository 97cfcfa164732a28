"""The bounds every value an operator types into the admin is held to before it is stored.

- Dates and times: between EARLIEST and LATEST. A far-future time typed in
  OPS_TIMEZONE can land past year 9999 in UTC, which PostgreSQL stores and
  Python cannot read back.
- JSON: parsed strictly (smsbot.storable.load_json): no NaN/Infinity, no NUL
  or lone surrogate, at most MAX_JSON_DEPTH levels and MAX_JSON_CHARS characters.

bounded() applies them to any form field; the admin base applies it to every
field of every admin form (smsbot.admin_base.BoundedInputsMixin), and forms
of the admin's own screens use the field classes here.
"""

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, models

from smsbot import storable
from smsbot.timezones import shown_date

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
MAX_JSON_DEPTH = 16
MAX_JSON_CHARS = 64 * 1024


def within_range(value: date | datetime | None) -> None:
    """Validator: a date, or a datetime's date where it was typed, between EARLIEST and LATEST."""
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(
            "Pick a date between %(earliest)s and %(latest)s.",
            code="out_of_range",
            params={"earliest": shown_date(EARLIEST), "latest": shown_date(LATEST)},  # one clock
        )


class BoundedDateField(forms.DateField):
    default_validators = [within_range]


class BoundedDateTimeField(forms.DateTimeField):
    default_validators = [within_range]


class StorableJSONField(forms.JSONField):
    """A JSON field that refuses, with the reason, what the database could not store."""

    def to_python(self, value: Any) -> Any:
        if self.disabled or not isinstance(value, str | bytes) or value in self.empty_values:
            return super().to_python(value)
        if len(value) > MAX_JSON_CHARS:
            raise ValidationError(
                "At most %(limit)s characters of JSON.",
                code="too_long",
                params={"limit": MAX_JSON_CHARS},
            )
        try:
            storable.load_json(value, MAX_JSON_DEPTH)
        except storable.NotStorable as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        # Checked: Django's own reading (its decoder, JSONString) is now safe.
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Shown again as typed when refused; Django's json.loads here could recurse too deep.
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            self.to_python(data)
        except ValidationError:
            return forms.fields.InvalidJSONInput(data)
        return super().bound_data(data, initial)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Ids past the database's integer range are an invalid choice (SQLite cannot even
    compare them: the IN query would fail)."""

    def _check_values(self, value: Any) -> Any:
        meta = self.queryset.model._meta
        key = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        if isinstance(key, models.IntegerField):
            ops = connections[self.queryset.db].ops
            low, high = ops.integer_field_range(key.get_internal_type())
            for item in value:
                try:
                    number = int(item)
                except (TypeError, ValueError):
                    continue  # Django's own check refuses it
                if not low <= number <= high:
                    raise ValidationError(
                        self.error_messages["invalid_choice"],
                        code="invalid_choice",
                        params={"value": item},
                    )
        return super()._check_values(value)


DATE_FIELDS = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)


def bounded(field: forms.Field | None) -> forms.Field | None:
    """The field, holding its dates to the range (idempotent; other fields unchanged)."""
    if isinstance(field, DATE_FIELDS) and within_range not in field.validators:
        field.validators.append(within_range)
    return field
