from decimal import Decimal

import pytest

from messaging.billing import pricing, segments


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets each
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),  # é is in the basic GSM table
        ("ש" * 70, "UCS-2", 1),
        ("ש" * 71, "UCS-2", 2),
        ("ש" * 134, "UCS-2", 2),
        ("ש" * 135, "UCS-2", 3),
        ("🙂" * 35, "UCS-2", 1),  # one emoji is two UTF-16 code units
        ("🙂" * 36, "UCS-2", 2),
    ],
)
def test_segments(text, encoding, count):
    info = segments.count(text)
    assert (info.encoding, info.segments) == (encoding, count)


def test_a_stray_curly_quote_forces_ucs2_and_is_named():
    info = segments.count("Today’s word: shalom")
    assert info.encoding == "UCS-2"
    assert info.forcing_ucs2 == ("curly quote ’",)
    assert any("curly quote" in w for w in info.warnings)


def test_genuine_unicode_is_not_called_a_stray_character():
    assert segments.count("שלום ’").forcing_ucs2 == ()


@pytest.mark.django_db
def test_estimates_cost_segments_times_the_unit_price():
    us = "+13125550123"
    assert pricing.estimate("sns", "sms", "a" * 161, phone=us) == Decimal("0.01290")
    # The console is priced as the provider it stands in for (CONSOLE_PRICES_AS: sns).
    assert pricing.estimate("console", "sms", "hi", phone=us) == Decimal("0.00645")
    whatsapp = pricing.estimate("twilio", "whatsapp", "a" * 500, phone=us, template=True)
    assert whatsapp == Decimal("0.025")
