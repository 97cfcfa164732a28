import pytest
from django.core.management import call_command

from messaging.models import Message
from subscribers.demo import DEMO_NUMBERS
from subscribers.models import ConsentEvent, Conversation, Subscriber


@pytest.mark.django_db
def test_seed_demo_creates_subscribers_with_evidence_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("seed_demo")
    assert Subscriber.objects.count() == len(DEMO_NUMBERS)
    assert ConsentEvent.objects.count() == len(DEMO_NUMBERS)
    assert set(ConsentEvent.objects.values_list("source", flat=True)) == {
        "sms_keyword",
        "whatsapp_keyword",
        "import",
        "admin",
        "web_form",
    }
    # Fictional numbers only: +1 312 555 0100-0199.
    assert all(
        p.startswith("+131255501") for p in Subscriber.objects.values_list("phone", flat=True)
    )
    pending = Subscriber.objects.get(consent_status="pending")
    assert Message.objects.get(kind="confirmation").subscriber == pending
    assert Conversation.objects.get().phone_number == "+13125550101"
