"""{% ops_dashboard %}: the operations dashboard on the admin home; money and name filters."""

from dataclasses import replace
from typing import Any

from django import template
from django.http import HttpRequest

from messaging.billing import pricing
from messaging.broadcasts import schedule
from messaging.reports import alerts, charts, dashboard, figures
from smsbot.admin_links import may_open

register = template.Library()


@register.inclusion_tag("admin/ops_dashboard.html", takes_context=True)
def ops_dashboard(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    # The figures are about messages: only people allowed to see messages get them.
    if not request.user.has_perm("messaging.view_message"):
        return {"allowed": False}
    with schedule.read_once():
        built = dashboard.build()
    # The figures are built for everyone who may see messages; a link to a page this
    # user would be refused (adding content, the periodic tasks) is not offered.
    built["alerts"] = [offered(request, a) for a in built["alerts"]]
    for card in (built["daily"]["content"], *built["upcoming"]):
        if not may_open(request, card["url"]):
            card["url"] = None
    return {"allowed": True, **built}


def offered(request: HttpRequest, alert: alerts.Alert) -> alerts.Alert:
    """The alert with the link this user may follow: its own, else the one it offers
    instead (seeing the daily content rather than adding it), else none."""
    if may_open(request, alert.url):
        return alert
    if alert.instead and may_open(request, alert.instead[1]):
        text, url = alert.instead
        return replace(alert, url=url, link_text=text)
    return replace(alert, url=None)


@register.filter
def usd(value: object) -> str:
    """$1,234.56, or four places under a dollar so small amounts do not show as $0.00."""
    return charts.money(value) if value not in (None, "") else ""


@register.filter
def provider_name(code: str, channel: str = "") -> str:
    """ "sns" → "AWS SNS": providers by the names operators know them by; the console's
    on channel says what that channel is priced as."""
    return pricing.provider_label(code, channel)


@register.filter
def channel_name(code: str) -> str:
    return figures.channel_label(code)
