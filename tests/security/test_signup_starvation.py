"""Sign-ups that attackers cannot starve (issue 20, item 5).

A flood of sign-ups used to spend the hourly confirmation cap and make the next
real sign-up's confirmation skipped for good; special-service NANP numbers got
confirmations; an extra form field of megabytes went into the append-only
consent trail. Each attack goes through the public doors (HTTP on /optin/ and
/api/optin/, the CSV import by command and in the admin); time moves with the
clock fixture, and held confirmations are released by the beat task, run as a
Celery task.
"""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from messaging import task_names, tasks
from messaging.confirmations import hourly_cap
from messaging.models import Message
from smsbot.celery import app
from subscribers.models import ConsentEvent, Subscriber
from tests.clock import Clock

API = reverse("subscribers:optin_api")
FORM = reverse("subscribers:optin")
REAL = "+13125550199"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_doors(settings):
    settings.OPTIN_API_PUBLIC = True
    settings.OPTIN_RATE_LIMIT = "1000/h"
    settings.OPTIN_NUMBER_RATE_LIMIT = "100/h"


def numbers(count: int) -> list[str]:
    """Fictional numbers +1 312 555 0100 onwards (0199 is the real sign-up's)."""
    return [f"+1312555{100 + n:04d}" for n in range(count)]


def form(client, phone: str, ip: str = "203.0.113.7", headers: dict | None = None, **extra):
    data = {"phone": phone, "channel": "sms", "consent": "on", **extra}
    return client.post(FORM, data, REMOTE_ADDR=ip, **(headers or {}))


def api(client, body: dict, ip: str = "203.0.113.7", headers: dict | None = None):
    return client.post(
        API, json.dumps(body), content_type="application/json", REMOTE_ADDR=ip, **(headers or {})
    )


PROXY = "10.0.0.2"


def behind_proxy(client_address: str, spoofed: str = "192.0.2.1") -> dict:
    """What one trusted proxy (TRUSTED_PROXY_COUNT=1) forwards: whatever the client
    wrote into X-Forwarded-For, then the address the proxy saw."""
    return {"HTTP_X_FORWARDED_FOR": f"{spoofed}, {client_address}"}


def network_hash(network: str) -> str:
    """The salted hash a sign-up source is kept as, computed here independently."""
    salt = (settings.PHONE_HASH_SALT or settings.SECRET_KEY).encode()
    return hmac.new(salt, f"signup-source:{network}".encode(), hashlib.sha256).hexdigest()


def subscribe(phone: str, **extra) -> dict:
    return {"phone": phone, "consent": True, "action": "subscribe", **extra}


def confirmation(phone: str) -> Message:
    return Message.objects.get(kind="confirmation", phone=phone)


def sends(published) -> list[int]:
    return [args[0] for name, args in published if name == task_names.SEND_MESSAGE]


def release(django_capture_on_commit_callbacks) -> int:
    """Beat's task, run as Celery runs it; its sends are published after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return tasks.release_confirmations.apply().get()


def flood(client, phones: list[str], django_capture_on_commit_callbacks) -> None:
    """Sign-ups from ten addresses, the form and the API taking turns."""
    for n, phone in enumerate(phones):
        ip = f"198.51.100.{n % 10 + 1}"
        with django_capture_on_commit_callbacks(execute=True):
            response = api(client, subscribe(phone), ip) if n % 2 else form(client, phone, ip)
        assert response.status_code in (200, 302)


# --- a flood cannot starve a real sign-up -------------------------------------------


def test_the_release_task_runs_from_beat_on_the_replies_queue():
    entry = app.conf.beat_schedule["release-confirmations"]
    assert entry["task"] == task_names.RELEASE_CONFIRMATIONS
    assert entry["schedule"] == 60.0 and entry["options"]["queue"] == "replies"


def test_after_a_flood_a_real_sign_up_is_confirmed_within_the_hour(
    client, admin_client, settings, clock: Clock, published, django_capture_on_commit_callbacks,
    probe,
):  # fmt: skip
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 20
    start = timezone.now()
    clock.set(start)
    flood(client, numbers(20), django_capture_on_commit_callbacks)
    assert len(sends(published)) == 20

    clock.set(start + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, REAL, ip="192.0.2.50").status_code == 302
    real = confirmation(REAL)
    assert real.status == "held" and real.error_message.startswith("confirmation cap")
    assert real.id not in sends(published)
    # Signing up again while it waits makes no second confirmation.
    with django_capture_on_commit_callbacks(execute=True):
        assert api(client, subscribe(REAL), ip="192.0.2.51").status_code == 200
    assert Message.objects.filter(kind="confirmation", phone=REAL).count() == 1
    home = admin_client.get(reverse("admin:index")).content.decode()
    assert "1 sign-up confirmation(s) are waiting" in home

    # Beat runs every minute: nothing has room until the flood's hour has passed.
    clock.set(start + timedelta(minutes=30))
    assert release(django_capture_on_commit_callbacks) == 0
    clock.set(start + timedelta(minutes=61))
    assert release(django_capture_on_commit_callbacks) == 1
    real.refresh_from_db()
    assert (real.status, real.error_message) == ("queued", "")
    assert real.released_at >= start + timedelta(minutes=61)
    assert sends(published).count(real.id) == 1
    probe.record(302, refused=real.status == "queued")
    assert "are waiting" not in admin_client.get(reverse("admin:index")).content.decode()
    # A second run finds nothing more to send.
    assert release(django_capture_on_commit_callbacks) == 0


# Ten attacking clients in ten networks, IPv4 and IPv6, seen through one trusted proxy.
ATTACKERS = [
    "198.51.100.10", "203.0.113.10", "198.18.2.10", "198.18.0.10", "198.18.1.10",
    "2001:db8:a::10", "2001:db8:b::10", "2001:db8:c::10", "2001:db8:d::10", "2001:db8:e::10",
]  # fmt: skip


def test_a_flood_three_times_the_cap_cannot_starve_a_real_sign_up(
    client, settings, clock: Clock, published, django_capture_on_commit_callbacks, probe
):
    """The audit's case: cap 20; 60 sign-ups from 10 addresses (20 queued, 40 held);
    a real sign-up from an 11th address 5 minutes later. Held oldest first, it went
    out at +182 min; in turn per source, it goes with the first room, at +60 min."""
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 20
    settings.TRUSTED_PROXY_COUNT = 1
    start = timezone.now()
    clock.set(start)
    flood_numbers = numbers(60)
    for n, phone in enumerate(flood_numbers):
        # Each request claims a new address to the left of what the proxy saw.
        headers = behind_proxy(ATTACKERS[n % 10], spoofed=f"192.0.2.{n + 100}")
        with django_capture_on_commit_callbacks(execute=True):
            if n % 2:
                assert api(client, subscribe(phone), PROXY, headers).status_code == 200
            else:
                assert form(client, phone, PROXY, headers).status_code == 302
    statuses = [confirmation(p).status for p in flood_numbers]
    assert (statuses.count("queued"), statuses.count("held")) == (20, 40)

    signed_up = start + timedelta(minutes=5)
    clock.set(signed_up)
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, REAL, PROXY, behind_proxy("192.0.2.50")).status_code == 302
    real = confirmation(REAL)
    assert real.status == "held"

    # Beat runs the task every minute; when does the real confirmation go?
    went_at = None
    for minute in range(6, 6 + 3 * 60):
        clock.set(start + timedelta(minutes=minute))
        release(django_capture_on_commit_callbacks)
        real.refresh_from_db()
        if real.status == "queued":
            went_at = real.released_at
            break
    assert went_at is not None, "the real confirmation never went out"
    waited = went_at - signed_up
    minutes = (went_at - start).total_seconds() / 60
    print(f"real sign-up at +5 min; its confirmation released at +{minutes:.1f} min")
    assert waited <= timedelta(hours=1), f"waited {waited}"
    assert real.id in sends(published)
    probe.record(302, refused=waited <= timedelta(hours=1))
    # The cap still held: never more than 20 released in any rolling hour.
    released = sorted(
        Message.objects.filter(kind="confirmation", released_at__isnull=False).values_list(
            "released_at", flat=True
        )
    )
    for n, moment in enumerate(released):
        assert sum(moment <= other < moment + timedelta(hours=1) for other in released[n:]) <= 20
    # The flood waits its turns; none of it was dropped.
    assert Message.objects.filter(kind="confirmation", status="skipped").count() == 0


def test_held_confirmations_go_oldest_first_as_room_comes(
    client, settings, clock: Clock, published, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 2
    start = timezone.now()
    first, second, third, fourth = numbers(4)
    for minute, phone in enumerate((first, second, third, fourth)):
        clock.set(start + timedelta(minutes=minute))
        flood(client, [phone], django_capture_on_commit_callbacks)
    assert [confirmation(p).status for p in (first, second, third, fourth)] == [
        "queued", "queued", "held", "held",
    ]  # fmt: skip
    # The first's hour ends a minute before the second's: one room, for the oldest.
    clock.set(start + timedelta(minutes=60, seconds=30))
    assert release(django_capture_on_commit_callbacks) == 1
    assert (confirmation(third).status, confirmation(fourth).status) == ("queued", "held")
    # A new sign-up does not jump the queue when the next room comes.
    clock.set(start + timedelta(minutes=61, seconds=30))
    flood(client, [REAL], django_capture_on_commit_callbacks)
    assert (confirmation(fourth).status, confirmation(REAL).status) == ("queued", "held")


def test_a_confirmation_held_for_a_day_is_skipped_and_start_still_works(
    client, admin_client, settings, clock: Clock, twilio, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 1
    start = timezone.now()
    clock.set(start)
    flood(client, [numbers(1)[0], REAL], django_capture_on_commit_callbacks)
    assert confirmation(REAL).status == "held"
    # Beat was down all day: the held confirmation has waited too long to be welcome.
    clock.set(start + timedelta(days=1, minutes=1))
    assert release(django_capture_on_commit_callbacks) == 0
    expired = confirmation(REAL)
    assert expired.status == "skipped" and expired.error_message == hourly_cap.EXPIRED
    assert expired.price_estimated == 0
    assert "are waiting" not in admin_client.get(reverse("admin:index")).content.decode()
    # The person can still join from the phone.
    assert twilio.inbound("START", sender=REAL).status_code == 200
    assert Subscriber.objects.get(phone=REAL).consent_status == "opted_in"


def test_a_held_confirmation_whose_number_opted_in_meanwhile_is_not_sent(
    client, settings, clock: Clock, twilio, published, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 1
    start = timezone.now()
    clock.set(start)
    flood(client, [numbers(1)[0], REAL], django_capture_on_commit_callbacks)
    assert twilio.inbound("START", sender=REAL).status_code == 200
    clock.set(start + timedelta(minutes=61))
    release(django_capture_on_commit_callbacks)
    assert confirmation(REAL).status == "skipped"
    assert confirmation(REAL).id not in sends(published)


# --- held confirmations go in turn per sign-up source ------------------------------------


def test_a_sign_up_source_is_the_salted_hash_of_the_client_network(
    client, settings, django_capture_on_commit_callbacks
):
    """Through one trusted proxy: the client's own address decides, not what it wrote
    into X-Forwarded-For, and neighbours in one /24 or /64 are one source."""
    settings.TRUSTED_PROXY_COUNT = 1
    a, b, c, d, e = numbers(5)
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, a, PROXY, behind_proxy("198.51.100.23", "192.0.2.1")).status_code == 302
        body = subscribe(b)
        assert (
            api(client, body, PROXY, behind_proxy("198.51.100.200", "192.0.2.99")).status_code
            == 200
        )
        assert form(client, c, PROXY, behind_proxy("2001:db8:7:1::5")).status_code == 302
        assert (
            api(client, subscribe(d), PROXY, behind_proxy("2001:db8:7:1:ffff::1")).status_code
            == 200
        )
        assert form(client, e, PROXY, behind_proxy("2001:db8:7:2::5")).status_code == 302
    sources = [confirmation(phone).signup_source for phone in (a, b, c, d, e)]
    assert sources[0] == sources[1] == network_hash("198.51.100.0/24")
    assert sources[2] == sources[3] == network_hash("2001:db8:7:1::/64")
    assert sources[4] == network_hash("2001:db8:7:2::/64")
    # The address itself is not stored with the message, in any column.
    for message in Message.objects.filter(kind="confirmation").values():
        assert not any("198.51.100" in str(v) or "2001:db8" in str(v) for v in message.values())


def test_a_source_holding_many_cannot_make_a_newcomer_wait(
    client, settings, clock: Clock, published, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 2
    start = timezone.now()
    clock.set(start)
    busy = numbers(8)
    for phone in busy:
        with django_capture_on_commit_callbacks(execute=True):
            assert form(client, phone, "203.0.113.7").status_code == 302
    clock.set(start + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert api(client, subscribe(REAL), "192.0.2.50").json()["status"] == "pending"
    assert confirmation(REAL).status == "held"
    # The first room after the hour: the busy source's oldest held and the newcomer.
    clock.set(start + timedelta(minutes=61))
    assert release(django_capture_on_commit_callbacks) == 2
    assert confirmation(REAL).status == "queued" and confirmation(REAL).id in sends(published)
    assert confirmation(busy[2]).status == "queued"
    assert [confirmation(p).status for p in busy[3:]] == ["held"] * 5


def test_imports_and_the_admin_are_a_source_of_their_own(
    client, settings, clock: Clock, tmp_path, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 2
    start = timezone.now()
    clock.set(start)
    path = tmp_path / "members.csv"
    imported = numbers(6)
    path.write_text("phone,consent_status,evidence\n" + "".join(
        f"{phone},pending,fair sheet\n" for phone in imported
    ))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_subscribers", str(path))
    assert {confirmation(p).signup_source for p in imported} == {""}
    assert sorted(confirmation(p).status for p in imported) == ["held"] * 4 + ["queued"] * 2
    clock.set(start + timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, REAL, "192.0.2.50").status_code == 302
    clock.set(start + timedelta(minutes=61))
    assert release(django_capture_on_commit_callbacks) == 2
    assert confirmation(REAL).status == "queued"
    assert sorted(confirmation(p).status for p in imported) == ["held"] * 3 + ["queued"] * 3


def test_a_source_with_too_many_held_is_refused_at_the_door(
    client, settings, probe, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 1
    settings.OPTIN_HELD_PER_SOURCE = 3
    settings.WEBHOOK_TOKEN = "partner-token-for-tests"
    settings.TRUSTED_PROXY_COUNT = 1
    phones = numbers(8)
    for n, phone in enumerate(phones[:4]):
        with django_capture_on_commit_callbacks(execute=True):
            # One /24, each request claiming another address to the left of the proxy's.
            headers = behind_proxy(f"198.51.100.{n + 1}", f"192.0.2.{n + 1}")
            assert form(client, phone, PROXY, headers).status_code == 302
    assert hourly_cap.held().count() == 3
    events = ConsentEvent.objects.count()

    page = probe.attack(form(client, phones[4], PROXY, behind_proxy("198.51.100.77")))
    assert page.status_code == 429 and int(page["Retry-After"]) == 3600
    assert "Too many sign-ups from this network are already waiting" in page.content.decode()
    answer = probe.attack(api(client, subscribe(phones[5]), PROXY, behind_proxy("198.51.100.9")))
    assert answer.status_code == 429
    assert answer.json()["error"].startswith(
        "too many sign-ups from this network are already waiting for their confirmation text"
    )
    # Nothing of the refused sign-ups is stored.
    assert not Subscriber.objects.filter(phone__in=phones[4:6]).exists()
    assert ConsentEvent.objects.count() == events and hourly_cap.held().count() == 3
    # Another network still signs up (and waits its turn), and so does a partner with the
    # token from the busy network: a partner's server signs many people up on purpose.
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, phones[6], PROXY, behind_proxy("203.0.113.7")).status_code == 302
        partner = client.post(
            API,
            json.dumps(subscribe(phones[7])),
            content_type="application/json",
            REMOTE_ADDR=PROXY,
            HTTP_AUTHORIZATION="Bearer partner-token-for-tests",
            **behind_proxy("198.51.100.5"),
        )
    assert partner.json()["status"] == "pending"
    assert confirmation(phones[6]).status == confirmation(phones[7]).status == "held"


# --- shares per number prefix and per country ------------------------------------------


def test_one_prefix_cannot_spend_the_hour(client, settings, django_capture_on_commit_callbacks):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 20
    settings.OPTIN_CONFIRMATIONS_PREFIX_SHARE = 10  # two an hour per NPA-NXX
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "CA", "AU"]
    flood(client, numbers(10), django_capture_on_commit_callbacks)
    statuses = Message.objects.filter(kind="confirmation").values_list("status", flat=True)
    assert sorted(statuses) == ["held"] * 8 + ["queued"] * 2
    # Other prefixes still have room: Ottawa's 613-555 and an Australian mobile range.
    flood(client, ["+16135550100", "+61491570006"], django_capture_on_commit_callbacks)
    assert confirmation("+16135550100").status == "queued"
    assert confirmation("+61491570006").status == "queued"


def test_one_country_cannot_spend_the_hour(client, settings, django_capture_on_commit_callbacks):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 4
    settings.OPTIN_CONFIRMATIONS_COUNTRY_SHARE = 50
    flood(client, numbers(3), django_capture_on_commit_callbacks)
    assert [confirmation(p).status for p in numbers(3)] == ["queued", "queued", "held"]
    flood(client, ["+16135550100"], django_capture_on_commit_callbacks)
    assert confirmation("+16135550100").status == "queued"


# --- special-service NANP ranges, at every door --------------------------------------------

SPECIAL = [
    "+15005550123",  # 5XX personal communications
    "+15215550123",
    "+15225550123",
    "+15335550123",
    "+15445550123",
    "+15665550123",
    "+15775550123",
    "+15885550123",
    "+16005550123",  # Canadian non-geographic
    "+16225550123",
    "+17005550123",  # interexchange carrier services
    "+17105550123",  # US government
    "+19005550123",  # premium rate
    "+12115550123",  # N11 as an area code
    "+13122110123",  # N11 as an exchange
    "+13125551212",  # 555 directory assistance
]


def test_special_ranges_are_refused_by_the_api(client, probe):
    for phone in SPECIAL:
        response = probe.attack(api(client, subscribe(phone)))
        assert response.status_code == 400 and "phone: " in response.json()["error"], phone
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_special_ranges_are_refused_by_the_form(client, probe):
    for phone in SPECIAL:
        page = form(client, phone)
        html = page.content.decode()
        # A form error beside the number (an invalid one, or one of a refused range).
        refused = "Please check the number" in html or "This number cannot be used" in html
        probe.attack(page, refused=refused)
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_special_ranges_are_refused_by_the_import_command(tmp_path, probe):
    path = tmp_path / "members.csv"
    rows = "".join(f"{phone},pending,fair sheet\n" for phone in SPECIAL)
    path.write_text("phone,consent_status,evidence\n" + rows)
    with pytest.raises(CommandError) as failure:
        call_command("import_subscribers", str(path))
    for row in range(1, len(SPECIAL) + 1):
        assert f"row {row}: phone: " in str(failure.value)
        probe.record(400)
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_special_ranges_are_refused_by_the_admin_import(admin_client, probe):
    text = "phone,evidence\n+15215550123,fair sheet\n+13125551212,fair sheet\n"
    preview = admin_client.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile("f.csv", text.encode(), "text/csv")},
    )
    html = preview.content.decode()
    probe.attack(preview, refused="cannot subscribe" in html and "Confirm import" not in html)
    assert "555 directory and information numbers cannot subscribe" in html
    assert not Subscriber.objects.exists()


def test_fictional_555_01xx_numbers_still_sign_up(client):
    assert form(client, "+13125550100").status_code == 302
    assert api(client, subscribe("+13125550199")).json()["status"] == "pending"


# --- what a body can put into the append-only consent trail ------------------------------


def test_a_huge_extra_form_field_is_not_stored(client, probe):
    huge = "x" * (2_500_000 - 200)  # just under Django's 2.5 MB request limit
    for n in range(3):
        response = form(client, f"+1312555{100 + n:04d}", extra=huge)
        probe.attack(response, refused=response.status_code == 302)
    assert ConsentEvent.objects.count() == 3
    for event in ConsentEvent.objects.all():
        stored = json.dumps(event.evidence)
        assert "extra" not in event.evidence["form"] and len(stored) < 2000
        assert event.evidence["form"]["consent"] == "on"


def test_a_known_form_field_is_bounded(client):
    assert form(client, REAL, consent="y" * 100_000).status_code == 302
    assert len(ConsentEvent.objects.get().evidence["form"]["consent"]) == 200


def test_the_api_drops_unknown_fields_and_bounds_known_ones(client, probe):
    body = subscribe(REAL, extra="z" * 4000, source={"page": "p" * 4000})
    response = probe.attack(api(client, body), refused=True)
    assert response.status_code == 200
    payload = ConsentEvent.objects.get().evidence["payload"]
    assert set(payload) == {"consent", "action", "source"}
    assert payload["source"].startswith('{"page": "ppp') and len(payload["source"]) == 200
