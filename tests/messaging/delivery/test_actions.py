"""What an error does to a number: the one function both the sender and delivery reports use."""

import pytest

from messaging.delivery import actions
from messaging.delivery.error_codes import Action
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber

pytestmark = pytest.mark.django_db
PHONE = "+13125550123"


@pytest.fixture
def subscriber() -> Subscriber:
    return change(PHONE, "opted_in", "sms_keyword", {"text": "START"}).subscriber


def test_an_opt_out_code_records_an_opt_out_with_the_same_evidence_keys_from_both_paths(
    subscriber,
):
    action = actions.act_on_error(
        phone=PHONE, code="21610", provider="twilio", provider_message_id="SM1", message_id=7
    )
    assert action == Action.OPT_OUT
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_out"
    event = ConsentEvent.objects.filter(subscriber=subscriber).first()
    assert event.source == "provider"
    assert event.evidence == {
        "error_code": "21610", "provider": "twilio", "provider_message_id": "SM1", "message_id": 7,
    }  # fmt: skip


def test_sns_opted_out_changes_no_consent(subscriber):
    # AWS's list may lag a START (invariant 11): shown for review, consent unchanged.
    assert actions.act_on_error(phone=PHONE, code="sns:OptedOut", provider="sns", message_id=1) == (
        Action.PROVIDER_OPT_OUT
    )
    subscriber.refresh_from_db()
    assert subscriber.consent_status == subscriber.consent_events.first().to_status


@pytest.mark.parametrize("code", ["21211", "21614", "30005", "30006", "63003"])
def test_unknown_numbers_are_marked_undeliverable_once(subscriber, code):
    assert actions.act_on_error(phone=PHONE, code=code, provider="twilio", message_id=1) == (
        Action.UNDELIVERABLE
    )
    subscriber.refresh_from_db()
    assert subscriber.undeliverable
    assert subscriber.undeliverable_reason.startswith(f"twilio error {code}: ")
    version = subscriber.version
    actions.act_on_error(phone=PHONE, code=code, provider="twilio", message_id=2)
    subscriber.refresh_from_db()
    assert subscriber.version == version  # already marked: nothing written again


def test_other_codes_change_nothing(subscriber):
    assert actions.act_on_error(phone=PHONE, code="30003", provider="twilio", message_id=1) == (
        Action.NONE
    )
    assert actions.act_on_error(phone=PHONE, code="", provider="twilio", message_id=1) == (
        Action.NONE
    )
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_in" and not subscriber.undeliverable


def test_an_opt_out_for_a_number_that_cannot_be_parsed_is_logged_not_raised(caplog):
    actions.act_on_error(phone="erased-12", code="21610", provider="twilio", message_id=1)
    assert "could not record the provider's opt-out" in caplog.text
    assert not ConsentEvent.objects.exists()
