"""Outbound messages as every sender builds them: segments, encoding and price once."""

from typing import Any

from messaging.models import Direction, Message
from messaging.outbound import pricing, segments
from subscribers.models import Channel


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
        segments=1 if channel in (Channel.WHATSAPP, Channel.EMAIL) else info.segments,
        encoding=info.encoding,
        price_estimated=pricing.estimate(provider, channel, body, phone=phone, template=template),
        **fields,
    )
