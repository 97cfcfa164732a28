"""Confirmations: the double opt-in message a pending sign-up gets.

It owns the SMS or WhatsApp confirmation of a number (by_phone: built, priced,
queued, held or skipped, and the receiver that sends it when consent turns
pending), the confirmation e-mail of an address (by_email) and the hourly cap
that is the breaker against SMS pumping (hourly_cap). Inbound (the webhooks'
keyword replies and reply limits), outbound, reports and the tasks all read it,
so it stands below them: it builds its messages with messaging.billing.build
and queues them through the outbox, and must not import inbound, outbound,
broadcasts, a provider, reports or the admin.
"""
