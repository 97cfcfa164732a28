"""Forms: the public opt-in form and the admin's consent and delivery-window action forms."""

from django import forms
from django.conf import settings
from django.utils import timezone

from smsbot import timezones
from smsbot.admin_inputs import BoundedDateField
from subscribers import hooks
from subscribers.delivery_window import PAUSE_DAYS
from subscribers.localtime import local_date, validate_send_time
from subscribers.models import Channel
from subscribers.phones import InvalidPhone, check_signup, normalize


class OptInForm(forms.Form):
    phone = forms.CharField(
        label="Mobile number",
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    channel = forms.ChoiceField(
        label="Send my messages by",
        choices=Channel.choices,
        initial=Channel.SMS,
        widget=forms.RadioSelect,
    )
    email = forms.EmailField(
        label="E-mail address (optional)",
        required=False,
        max_length=254,
        help_text="We e-mail you a link to confirm it; choose E-mail above to get the "
        "daily message there.",
    )
    preferred_time = forms.TimeField(
        label="Preferred time for the message (optional)",
        required=False,
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="Your local time; leave empty for the usual time.",
        error_messages={"invalid": "Please give a time as HH:MM, e.g. 07:30."},
    )
    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Please tick the box to agree before subscribing."},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Read per request, so the wording shown is the wording stored as evidence.
        self.fields["consent"].label = settings.OPTIN_CONSENT_TEXT
        # A preferred time means something only when each subscriber gets the
        # message at their own local time.
        if not hooks.local_delivery():
            del self.fields["preferred_time"]
        # E-mail is off without a sender (EMAIL_FROM): no address asked, no e-mail choice.
        if not settings.EMAIL_FROM:
            del self.fields["email"]
            self.fields["channel"].choices = [c for c in Channel.choices if c[0] != Channel.EMAIL]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("channel") == Channel.EMAIL and not data.get("email"):
            self.add_error("email", "Give an e-mail address to get the message by e-mail.")
        return data

    def clean_preferred_time(self) -> object:
        value = self.cleaned_data["preferred_time"]
        validate_send_time(value)
        return value

    def clean_phone(self) -> str:
        try:
            phone = normalize(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(f"Please check the number: {exc}.") from exc
        try:
            check_signup(phone)
        except InvalidPhone as exc:
            raise forms.ValidationError(f"This number cannot be used: {exc}.") from exc
        return phone


class OptOutForm(forms.Form):
    reason = forms.CharField(
        label="Reason for opting out",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept as evidence with your user name, e.g. 'asked by phone, ticket 123'.",
    )


class OptInEvidenceForm(forms.Form):
    evidence = forms.CharField(
        label="Evidence of consent",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Where and how the person consented again, e.g. 'signed form 2026-11-02'.",
    )


class EraseForm(forms.Form):
    request_reference = forms.CharField(
        label="Deletion request",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who asked and where the request is kept, e.g. 'email of 2026-11-20, ticket 77'.",
    )
    confirm = forms.BooleanField(
        label="I understand the number, its messages and its conversation are erased for good."
    )


class PauseForm(forms.Form):
    """For N days, as the PAUSE keyword takes it, or until a date: one or the other."""

    days = forms.IntegerField(
        label="Pause for (days)",
        required=False,
        min_value=PAUSE_DAYS.start,
        max_value=PAUSE_DAYS.stop - 1,
        widget=forms.NumberInput(attrs={"size": 4}),
        help_text="Skips that many daily messages, as the PAUSE keyword does.",
    )
    restart = BoundedDateField(
        label="Or messages start again on",
        required=False,
        widget=timezones.DateInput(),
        help_text="A date in each subscriber's own timezone; until then no broadcast "
        "reaches them. They stay opted in.",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept as evidence with your user name, e.g. 'asked by e-mail, ticket 88'.",
    )

    def clean_restart(self) -> object:
        restart = self.cleaned_data["restart"]
        if restart and restart <= local_date(timezone.now(), settings.DAILY_SEND_TIMEZONE):
            raise forms.ValidationError("Choose a date after today.")
        return restart

    def clean(self) -> dict:
        data = super().clean()
        given = [name for name in ("days", "restart") if data.get(name) is not None]
        if len(given) != 1 and not self.errors:
            raise forms.ValidationError(
                "Give either a number of days or a date, not " + ("both." if given else "neither.")
            )
        return data


class EmailAddressForm(forms.Form):
    """An operator adds (or replaces) a subscriber's address: it starts double opt-in."""

    email = forms.EmailField(label="E-mail address", max_length=254)
    evidence = forms.CharField(
        label="Evidence of the request",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who gave the address and how, e.g. 'asked by phone, ticket 41'. The "
        "address is confirmed only when its owner follows the link we e-mail.",
    )
