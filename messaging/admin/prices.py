"""Prices per destination country: the table every estimate and the budget guard read.

DevOps keep it in step with the providers' price lists; each edit is kept in the
audit log with the prices before and after (the portal's admin site records every
form's changes).
"""

from typing import Any

import phonenumbers
from django import forms
from django.contrib import admin

from messaging.models import CountryPrice
from subscribers.models import Channel


class CountryPriceForm(forms.ModelForm):
    class Meta:
        model = CountryPrice
        fields = ["provider", "channel", "country", "price_usd", "template_price_usd"]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and country not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                f"{country} is not a country code phone numbers are known by (e.g. US, CA, GB)."
            )
        return country

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("template_price_usd") is not None and data.get("channel") != Channel.WHATSAPP:
            self.add_error("template_price_usd", "Only WhatsApp has template prices.")
        for name in ("price_usd", "template_price_usd"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "A price cannot be negative.")
        return data


@admin.register(CountryPrice)
class CountryPriceAdmin(admin.ModelAdmin):
    form = CountryPriceForm
    list_display = ["provider", "channel", "destination", "price_usd", "template_price_usd"]
    list_filter = ["provider", "channel"]
    search_fields = ["country"]
    search_help_text = "A country code, e.g. US."

    @admin.display(description="destination", ordering="country")
    def destination(self, obj: CountryPrice) -> str:
        return obj.country or "every other country"
