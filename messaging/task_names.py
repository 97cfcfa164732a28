"""The names of messaging's Celery tasks, which messaging.tasks registers.

Code that queues a task (through the outbox or send_task) names it with one
of these constants, never with a string of its own: a misspelt constant fails
at import, and a test checks that every name here is a registered task.
"""

SEND_MESSAGE = "messaging.send_message"
SEND_BATCH = "messaging.send_batch"
FAN_OUT = "messaging.fan_out"
QUEUE_SENDS = "messaging.queue_sends"
BROADCAST_PROGRESS = "messaging.broadcast_progress"
START_DAILY_BROADCAST = "messaging.start_daily_broadcast"
CHECK_DELIVERY_WINDOWS = "messaging.check_delivery_windows"
START_DUE_BROADCASTS = "messaging.start_due_broadcasts"
SWEEP_STALE_MESSAGES = "messaging.sweep_stale_messages"
REFRESH_ROLLUPS = "messaging.refresh_rollups"
PURGE_OLD_BODIES = "messaging.purge_old_bodies"
CONFIRM_SNS_SUBSCRIPTION = "messaging.confirm_sns_subscription"
WRITE_DAILY_ANALYTICS = "messaging.write_daily_analytics"
CONSOLE_DELIVERY_REPORT = "messaging.console_delivery_report"
FETCH_SNS_DELIVERY = "messaging.fetch_sns_delivery"
HEARTBEAT = "messaging.heartbeat"
RELEASE_CONFIRMATIONS = "messaging.release_confirmations"
ACT_ON_PROVIDER_ERROR = "messaging.act_on_provider_error"
MARK_UNKNOWN_OUTCOMES = "messaging.mark_unknown_outcomes"
ANNOUNCE_BRAKE = "messaging.announce_brake"
FETCH_TWILIO_PRICES = "messaging.fetch_twilio_prices"
VERIFY_TWILIO = "messaging.verify_twilio"
SYNC_AWS_OPT_OUT = "messaging.sync_aws_opt_out"
RECONCILE_AWS_OPT_OUTS = "messaging.reconcile_aws_opt_outs"
