"""manage.py refresh_twilio_prices [--country XX ...] [--dry-run]"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from twilio.base.exceptions import TwilioRestException

from messaging.models import CountryPrice, Provider
from messaging.providers.twilio.checks import is_toll_free
from messaging.providers.twilio.client import NotConfigured
from messaging.providers.twilio.prices import country_sms_price
from subscribers.models import Channel


class Command(BaseCommand):
    help = (
        "Refresh the Twilio SMS estimates (Prices per country) from Twilio's Pricing API "
        "for the countries of OPTIN_ALLOWED_COUNTRIES (or --country): the highest current "
        "outbound price over the country's carriers for the sender's number type."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", action="append", default=[], help="ISO code, e.g. US")
        parser.add_argument("--dry-run", action="store_true", help="show, change nothing")

    def handle(self, *args: object, **options: object) -> None:
        countries = [c.upper() for c in options["country"]] or [  # type: ignore[union-attr]
            c for c in settings.OPTIN_ALLOWED_COUNTRIES if c != "*"
        ]
        if not countries:
            raise CommandError("no countries: set OPTIN_ALLOWED_COUNTRIES or pass --country")
        number_type = "toll free" if is_toll_free(settings.TWILIO_SMS_FROM) else "local"
        failed = 0
        for iso in countries:
            try:
                price, unit = country_sms_price(iso, number_type)
            except NotConfigured as exc:
                raise CommandError(str(exc)) from exc
            except TwilioRestException as exc:
                self.stdout.write(f"✗ {iso}: Twilio answered {exc.status} ({exc.code})")
                failed += 1
                continue
            if price is None or unit != "USD":
                self.stdout.write(f"✗ {iso}: no {number_type} SMS price in USD (unit {unit!r})")
                failed += 1
                continue
            self.stdout.write(self._store(iso, price, dry_run=bool(options["dry_run"])))
        if failed:
            raise CommandError(f"{failed} country price(s) not refreshed")

    def _store(self, iso: str, price, *, dry_run: bool) -> str:  # type: ignore[no-untyped-def]
        key = {"provider": Provider.TWILIO, "channel": Channel.SMS, "country": iso}
        old = CountryPrice.objects.filter(**key).values_list("price_usd", flat=True).first()
        if old == price:
            return f"✓ {iso}: {price} USD a segment (unchanged)"
        if not dry_run:
            with transaction.atomic():
                CountryPrice.objects.update_or_create(**key, defaults={"price_usd": price})
        action = "would be" if dry_run else "now"
        return f"✓ {iso}: {action} {price} USD a segment (was {old if old is not None else '—'})"
