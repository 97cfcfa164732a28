"""Prices per destination country: estimates, the broadcast preview, the admin, the cost report."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission

from messaging.billing import build, pricing
from messaging.broadcasts import audience
from messaging.models import CountryPrice
from messaging.reports.figures import CostRow
from subscribers.consent import change
from tests.ops.factories import ops_manager

pytestmark = pytest.mark.django_db

US = "+13125550123"
AUSTRALIA = "+61491570006"


@pytest.fixture(autouse=True)
def fresh_table():
    pricing.table.forget()
    yield
    pricing.table.forget()


def test_the_migration_seeds_todays_prices():
    seeded = {
        (p.provider, p.channel, p.country): (p.price_usd, p.template_price_usd)
        for p in CountryPrice.objects.all()
    }
    assert seeded[("sns", "sms", "US")] == (Decimal("0.00645"), None)
    assert seeded[("sns", "sms", "")] == (Decimal("0.00645"), None)
    assert seeded[("twilio", "whatsapp", "")] == (Decimal("0.00500"), Decimal("0.02500"))


def test_the_destination_country_picks_the_price():
    CountryPrice.objects.create(provider="sns", channel="sms", country="AU", price_usd="0.03950")
    assert pricing.country_of(AUSTRALIA) == "AU" and pricing.country_of(US) == "US"
    assert pricing.estimate("sns", "sms", "hello", phone=AUSTRALIA) == Decimal("0.03950")
    assert pricing.estimate("sns", "sms", "hello", phone=US) == Decimal("0.00645")
    # Two segments to Australia: twice its price.
    assert pricing.estimate("sns", "sms", "a" * 161, phone=AUSTRALIA) == Decimal("0.07900")


def test_a_country_without_a_row_pays_the_other_countries_price():
    CountryPrice.objects.filter(provider="sns", country="").update(price_usd="0.05000")
    assert pricing.estimate("sns", "sms", "hi", phone=AUSTRALIA) == Decimal("0.05000")
    assert pricing.country_of("not a number") == ""
    assert pricing.estimate("sns", "sms", "hi", phone="not a number") == Decimal("0.05000")


def test_an_empty_table_falls_back_to_the_default_prices():
    CountryPrice.objects.all().delete()
    assert pricing.estimate("twilio", "sms", "hi", phone=AUSTRALIA) == Decimal("0.0083")
    template = pricing.estimate("twilio", "whatsapp", "", phone=US, template=True)
    assert template == Decimal("0.025")


def test_a_change_in_this_process_is_used_at_once():
    assert pricing.estimate("twilio", "sms", "hi", phone=US) == Decimal("0.0083")
    CountryPrice.objects.filter(provider="twilio", channel="sms", country="US").update(
        price_usd="0.0079"
    )
    # update() sends no signal: the copy is kept until it expires...
    assert pricing.estimate("twilio", "sms", "hi", phone=US) == Decimal("0.0083")
    row = CountryPrice.objects.get(provider="twilio", channel="sms", country="US")
    row.price_usd = Decimal("0.0079")
    row.save()  # ...while a save (the admin's) drops it.
    assert pricing.estimate("twilio", "sms", "hi", phone=US) == Decimal("0.00790")


def test_built_messages_carry_their_countrys_estimate():
    CountryPrice.objects.create(provider="twilio", channel="sms", country="AU", price_usd="0.0515")
    message = build.outbound(
        kind="reply", channel="sms", provider="twilio", phone=AUSTRALIA, body="hi"
    )
    assert message.price_estimated == Decimal("0.0515")


def test_the_broadcast_preview_prices_each_country(settings):
    settings.SMS_PROVIDER = "sns"
    CountryPrice.objects.create(provider="sns", channel="sms", country="AU", price_usd="0.04000")
    for phone in ("+13125550101", "+13125550102", AUSTRALIA, "+61491570007"):
        change(phone, "opted_in", "import", {"file": "test.csv"})
    preview = audience.preview("Daily word")
    assert preview.recipients == 4 and preview.by_channel == {"sms": 4}
    assert preview.projected_cost == 2 * Decimal("0.00645") + 2 * Decimal("0.04000")


def devops_user():
    """A DevOps member, with the grants the migration gives the group."""
    user = ops_manager("devops")
    group, _ = Group.objects.get_or_create(name="DevOps")
    group.permissions.add(
        *Permission.objects.filter(
            codename__in=["view_countryprice", "add_countryprice", "change_countryprice"]
        )
    )
    user.groups.add(group)
    return user


def test_the_migration_grants_devops_the_price_table():
    devops = Group.objects.get(name="DevOps").permissions.values_list("codename", flat=True)
    readers = Group.objects.get(name="Operations Manager").permissions.values_list(
        "codename", flat=True
    )
    assert {"view_countryprice", "add_countryprice", "change_countryprice"} <= set(devops)
    assert "view_countryprice" in readers and "change_countryprice" not in readers


def test_devops_change_a_price_in_the_admin_and_the_change_is_audited(client):
    user = devops_user()
    client.force_login(user)
    row = CountryPrice.objects.get(provider="sns", channel="sms", country="US")
    url = f"/admin/messaging/countryprice/{row.pk}/change/"
    form = {"provider": "sns", "channel": "sms", "country": "us", "price_usd": "0.00581"}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    row.refresh_from_db()
    assert (row.country, row.price_usd) == ("US", Decimal("0.00581"))
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert entry.user == user
    assert entry.get_change_message() == "Changed: Price (USD): 0.00645 → 0.00581"
    assert pricing.estimate("sns", "sms", "hi", phone=US) == Decimal("0.00581")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"country": "XX"}, "XX is not a country code"),
        ({"template_price_usd": "0.02"}, "Only WhatsApp has template prices."),
        ({"price_usd": "-0.01"}, "A price cannot be negative."),
    ],
)
def test_bad_prices_are_refused_with_a_reason(client, form, error):
    user = devops_user()
    client.force_login(user)
    data = {"provider": "sns", "channel": "sms", "country": "GB", "price_usd": "0.04", **form}
    response = client.post("/admin/messaging/countryprice/add/", data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not CountryPrice.objects.filter(country__in=["GB", "XX"]).exists()


def test_operations_managers_may_only_read_prices(client):
    user = ops_manager("reader", extra_permissions=("messaging.view_countryprice",))
    client.force_login(user)
    assert client.get("/admin/messaging/countryprice/").status_code == 200
    assert client.get("/admin/messaging/countryprice/add/").status_code == 403


def test_the_cost_report_says_which_costs_are_estimates():
    def row(messages: int, priced: int) -> CostRow:
        money = Decimal("1")
        return CostRow(
            date(2026, 11, 1), "sns", "sms", messages, messages, money, money, priced, money
        )

    assert row(10, 10).basis == "actual"
    assert row(10, 0).basis == "estimated"
    assert row(10, 3).basis == "7 of 10 estimated" and row(10, 3).unpriced == 7
