"""Outbound messages as every sender builds them: segments, encoding and price once."""

from typing import Any

from messaging.billing import pricing, segments
from messaging.models import Direction, Message


def outbound(
    *,
    kind: str,
    channel: str,
    provider: str,
    phone: str,
    body: str,
    template: bool = False,
    **fields: Any,
) -> Message:
    """An unsaved outbound Message with its segments, encoding and estimated price."""
    info = segments.count(body)
    return Message(
        direction=Direction.OUTBOUND,
        kind=kind,
        channel=channel,
        provider=provider,
        phone=phone,
        body=body,
        # WhatsApp and e-mail are charged per message, not per segment.
        segments=1 if channel in pricing.PER_MESSAGE else info.segments,
        encoding=info.encoding,
        price_estimated=pricing.estimate(provider, channel, body, phone=phone, template=template),
        **fields,
    )
