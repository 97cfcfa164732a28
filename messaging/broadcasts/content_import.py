"""CSV import/export of DailyContent (django-import-export): one row per date."""

from typing import Any

from import_export import fields, resources, widgets

from messaging.models import DailyContent
from smsbot.csv_safe import FormulaSafeExport


class VariablesWidget(widgets.JSONWidget):
    """ContentVariables as JSON; empty means none."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> dict:
        parsed = super().clean(value, row, **kwargs)
        if parsed in (None, ""):
            return {}
        if not isinstance(parsed, dict):
            raise ValueError('whatsapp_content_variables must be a JSON object like {"1": "Ann"}')
        return parsed


class DailyContentResource(FormulaSafeExport, resources.ModelResource):
    date = fields.Field(attribute="date", column_name="date", widget=widgets.DateWidget("%Y-%m-%d"))
    whatsapp_content_variables = fields.Field(
        attribute="whatsapp_content_variables",
        column_name="whatsapp_content_variables",
        widget=VariablesWidget(),
    )

    class Meta:
        model = DailyContent
        import_id_fields = ["date"]
        fields = ["date", "text", "whatsapp_content_sid", "whatsapp_content_variables"]
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        if not (row.get("text") or "").strip():
            raise ValueError("text is empty")
