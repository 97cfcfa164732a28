"""Outbound: getting a message to a provider at most once.

It owns the claim-then-call dispatch (one message or a concurrent batch,
quiet hours and pauses checked at the claim), the hand-written send
statements, the global rate limit, operator retries, the stale-send sweep
and the CloudWatch send metrics. Segments, prices and the monthly budget are
messaging.billing's; the double opt-in confirmation and its hourly cap are
messaging.confirmations'. It calls providers only through
messaging.providers.registry and touches broadcasts only through their states
and progress; it must not import webhooks, reports or the admin.
"""
