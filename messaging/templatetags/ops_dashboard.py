"""{% ops_dashboard %}: the operations dashboard on the admin home; money and name filters."""

from typing import Any

from django import template

from messaging.reports import charts, dashboard
from messaging.reports import figures as reports

register = template.Library()


@register.inclusion_tag("admin/ops_dashboard.html", takes_context=True)
def ops_dashboard(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    # The figures are about messages: only people allowed to see messages get them.
    if not request.user.has_perm("messaging.view_message"):
        return {"allowed": False}
    return {"allowed": True, **dashboard.build()}


@register.filter
def usd(value: object) -> str:
    """$1,234.56, or four places under a dollar so small amounts do not show as $0.00."""
    return charts.money(value) if value not in (None, "") else ""


@register.filter
def provider_name(code: str) -> str:
    """ "sns" → "AWS SNS": providers by the names operators know them by."""
    return reports.provider_label(code)


@register.filter
def channel_name(code: str) -> str:
    return reports.channel_label(code)
