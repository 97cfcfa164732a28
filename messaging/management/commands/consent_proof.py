"""manage.py consent_proof PHONE [--json]"""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.reports import consent_proof
from subscribers.phones import InvalidPhone


class Command(BaseCommand):
    help = "One number's whole consent record, as the subscriber page's proof."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("phone", help="the number, e.g. +13125550123")
        parser.add_argument("--json", action="store_true", help="JSON, as the admin's proof")

    def handle(self, *args: object, **options: object) -> None:
        try:
            subscriber = consent_proof.find_subscriber(str(options["phone"]))
        except InvalidPhone as exc:
            raise CommandError(f"not a phone number: {exc}") from None
        if subscriber is None:
            raise CommandError("no subscriber has, or had, this number")
        document = consent_proof.proof(subscriber)
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(consent_proof.text(document))
