"""Inbound: the pipeline every webhook shares once its signature is checked.

It owns recording an inbound message once, consent keywords, the
delivery-window keywords (PAUSE, RESUME, TIME), the limits on replies that
cost money (reply_limits), the per-number conversation and the pluggable bot.
The double opt-in confirmation is messaging.confirmations', which it reads.
Replies are built with messaging.billing.build and queued, never sent inline:
it must not import outbound (the providers' webhooks call inbound, and
outbound stands above the providers), a provider, broadcasts (apart from
reading the daily schedule, messaging.broadcasts.schedule, to name the dates
it answers with), reports or the admin.
"""
