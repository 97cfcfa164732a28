"""The broadcast compose form: only what an operator sets, with a live counter under the text.

The counter (messaging/static/messaging/compose.js) counts characters,
encoding, segments and projected cost as the operator types, from the same
character tables as messaging.billing.segments and the same prices and
audience as the preview, handed over in data attributes. The preview, which
the server computes, stays the authority.
"""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from messaging.billing import pricing, segments
from messaging.broadcasts import audience
from messaging.models import Broadcast
from smsbot import timezones
from smsbot.admin_inputs import BoundedDateTimeField
from subscribers.models import Channel


class OpsDateTimeField(BoundedDateTimeField):
    """A date and time shown and typed in the operations timezone.

    Django reads a form's datetimes in the current timezone; this field reads
    and shows them in OPS_TIMEZONE, and refuses a wall-clock time that a DST
    change skips or repeats there (Django's own "couldn't be interpreted"), and a
    date outside the admin's range (smsbot.admin_inputs).
    """

    widget = timezones.DateTimeInput()

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(timezones.ops_zone()):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(timezones.ops_zone()):
            return super().prepare_value(value)


def counter_data() -> dict[str, Any]:
    """What the live counter needs: the GSM-7 tables, and recipients and prices per channel.

    A channel's unit price is its audience's average: each recipient's country has
    its own price (messaging.billing.pricing).
    """
    priced = audience.prices_by_channel()
    rates = []
    for channel in Channel:
        if channel == Channel.EMAIL and not audience.email_on():
            continue  # e-mail is off without a sender
        provider = audience.provider_for(channel)
        prices = priced.get(channel.value)
        unit, template_unit = (
            audience.average_unit(prices, provider, channel, template=template).quantize(
                Decimal("0.00001")  # the models' precision
            )
            for template in (False, True)
        )
        rates.append(
            {
                "channel": channel.value,
                "label": channel.label,
                "recipients": prices.recipients if prices else 0,
                "unit": str(unit),
                "template_unit": str(template_unit),
                # SMS is charged per segment, WhatsApp and e-mail per message.
                "per_segment": channel not in pricing.PER_MESSAGE,
            }
        )
    return {
        "gsm-basic": "".join(sorted(segments.GSM7_BASIC)),
        "gsm-extended": "".join(sorted(segments.GSM7_EXTENDED)),
        "lookalikes": segments.LOOKALIKES,
        "rates": rates,
    }


class CountedTextarea(forms.Textarea):
    """The text box, and under it the counter compose.js fills in."""

    def __init__(self, counter: dict[str, Any], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"rows": 6, "class": "vLargeTextField", **(attrs or {})})
        self.counter = counter

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        data = flatatt({f"data-{key}": json.dumps(v) for key, v in self.counter.items()})
        return format_html(
            '<div class="compose-text">{}<div id="compose-counter" class="compose-counter" '
            'aria-live="polite"{}></div></div>',
            super().render(name, value, attrs, renderer),
            data,
        )


class ComposeForm(forms.ModelForm):
    channel = forms.ChoiceField(
        label="Send to",
        choices=[("", "Every channel"), *Channel.choices],
        required=False,
    )
    scheduled_for = OpsDateTimeField(label="Schedule for", required=False)

    class Meta:
        model = Broadcast
        fields = [
            "name",
            "text",
            "channel",
            "whatsapp_content_sid",
            "whatsapp_content_variables",
            "scheduled_for",
        ]
        labels = {
            "whatsapp_content_sid": "Template ContentSid",
            "whatsapp_content_variables": "Template variables",
        }
        help_texts = {
            "name": "For you and the other operators; subscribers never see it.",
            "whatsapp_content_sid": "The approved template (HX…) Twilio sends to WhatsApp "
            "subscribers outside the 24-hour window.",
            "whatsapp_content_variables": 'JSON, e.g. {"1": "Ann"}.',
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].widget = CountedTextarea(counter_data())
        self.fields["whatsapp_content_variables"].widget.attrs.update(rows=2)
        self.fields[
            "scheduled_for"
        ].help_text = f"{timezones.times_in()} Leave empty to send right after the preview."

    def clean_scheduled_for(self) -> datetime | None:
        when = self.cleaned_data.get("scheduled_for")
        now = timezone.now()
        if when is not None and when <= now:
            raise forms.ValidationError(
                f"Pick a time in the future; it is {timezones.shown(now)} now."
            )
        return when


class TestSendForm(forms.Form):
    phone = forms.CharField(
        label="Send a test to",
        max_length=40,
        widget=forms.TextInput(
            attrs={"placeholder": "+1 312 555 0123", "autocomplete": "tel", "size": 18}
        ),
        help_text="Your own phone, opted in on a channel this broadcast reaches.",
    )
