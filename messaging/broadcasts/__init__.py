"""Broadcasts: one text to many subscribers, and the daily one.

It owns the audience, fan-out in checkpointed batches, broadcast states
(draft, scheduled, sending, paused, cancelled, done) and progress, test sends
to a staff phone, the daily content and its schedule, delivery windows
(local-time waves, releasing messages held by quiet hours), and the content
import. Messages are built with messaging.billing.build and sent by the tasks;
it must not import messaging.outbound (which reads broadcast states and
progress, so the arrow runs one way), a provider, reports or the admin.
"""
