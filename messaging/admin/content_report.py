"""The Daily content report: the daily texts of a period ranked by the opt-out rate
(or reply rate) they caused, with a chart (messaging.reports.attribution)."""

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from messaging.admin.messages import CostRangeForm
from messaging.reports import attribution, rollups

DEFAULT_DAYS = 30


def content_report_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("messaging.view_broadcast"):
        raise PermissionDenied
    today = rollups.today()
    chosen = "start" in request.GET or "end" in request.GET
    form = CostRangeForm(request.GET if chosen else None, today=today)
    form.fields["start"].initial = today - timedelta(days=DEFAULT_DAYS - 1)
    form.fields["end"].initial = today
    if chosen and form.is_valid():
        start, last = form.range()
    else:
        start, last = form.fields["start"].initial, today
    order = request.GET.get("order", attribution.DEFAULT_ORDER)
    report = attribution.content_report(start, last, order)
    period = {"start": start.isoformat(), "end": last.isoformat()}
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Daily content report",
        "form": form,
        "report": report,
        "chart": report.chart() if report.rows else "",
        "window": attribution.window_words(),
        "orders": [
            (key, label, f"?{urlencode({**period, 'order': key})}", key == report.order)
            for key, (label, _) in attribution.ORDERS.items()
        ],
        "presets": [
            (label, f"?{urlencode({'start': today - timedelta(days=days - 1), 'end': today})}")
            for label, days in (("Last 30 days", 30), ("Last 90 days", 90), ("Last year", 365))
        ],
    }
    return TemplateResponse(request, "admin/messaging/dailycontent/report.html", context)
