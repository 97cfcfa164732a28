"""Inbound: the pipeline every webhook shares once its signature is checked.

It owns recording an inbound message once, consent keywords, the
delivery-window keywords (PAUSE, RESUME, TIME), the limits on replies that
cost money (reply_limits), the per-number conversation, the pluggable bot and
the double opt-in confirmation. Replies are built with
messaging.billing.build and queued, never sent inline: it must not import a
provider, the dispatcher, broadcasts (apart from reading the daily schedule,
messaging.broadcasts.schedule, to name the dates it answers with), reports or
the admin.
"""
