import pytest
from django.core.management import call_command

from messaging.models import Message
from subscribers.models import ConsentEvent, Conversation, Subscriber


@pytest.mark.django_db
def test_seed_demo_creates_subscribers_with_evidence_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
        call_command("seed_demo")
    assert Subscriber.objects.count() == 5
    assert ConsentEvent.objects.count() == 5
    assert set(ConsentEvent.objects.values_list("source", flat=True)) == {
        "sms_keyword",
        "whatsapp_keyword",
        "import",
        "admin",
        "web_form",
    }
    pending = Subscriber.objects.get(consent_status="pending")
    assert Message.objects.get(kind="confirmation").subscriber == pending
    assert Conversation.objects.get().phone_number == "+13125550101"
