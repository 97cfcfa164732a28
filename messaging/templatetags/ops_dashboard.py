"""{% ops_dashboard %}: the operations dashboard on the admin home."""

from typing import Any

from django import template

from messaging.reports import charts, dashboard

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
