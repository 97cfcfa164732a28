"""Names the portal and its AWS side agree on: SNS topics, log groups, CloudWatch metrics.

provision_aws creates resources and alarms under these names; the apps verify
messages against the topics, read the log groups and publish the metrics. Both
import them from here, so the core never reaches into an app for them. Every
resource name the portal chooses also takes AWS_RESOURCE_PREFIX
(smsbot.aws.resource_name); the SNS log groups are named by SNS itself.
"""

INBOUND_TOPIC = "bot-sms-inbound"
# End User Messaging SMS delivery events (SMS_PROVIDER=aws-sms): the configuration set
# every SendTextMessage names, its SNS event destination, and the topic it publishes to.
SMS_EVENTS_TOPIC = "bot-sms-events"
CONFIGURATION_SET = "smsbot"
EVENT_DESTINATION = "smsbot-events-to-sns"
# The protect configuration (SMS-pumping protection) carries this Name tag.
PROTECT_CONFIGURATION = "smsbot-protect"
# Alarms notify this topic; ALERT_EMAILS are subscribed to it.
ALERTS_TOPIC = "smsbot-alerts"
# Retired: SNS never publishes SMS delivery statuses to a topic (they go to the log
# groups below). provision_aws deletes a topic of this name left by older versions.
DELIVERY_STATUS_TOPIC = "sms-delivery-status"

# E-mail: SES sends with this configuration set, whose event destination publishes
# bounces and complaints to the feedback topic (subscribed to /webhooks/ses/).
SES_CONFIGURATION_SET = "smsbot-email"
SES_EVENT_DESTINATION = "smsbot-feedback-to-sns"
SES_FEEDBACK_TOPIC = "smsbot-ses-feedback"

METRICS_NAMESPACE = "SMSBot"
METRIC_SENT = "MessagesSent"
METRIC_FAILED = "MessagesFailed"
METRIC_SPEND = "SpendUSD"
# Delivery reports (Twilio callbacks, SNS delivery log lines) as they are applied.
METRIC_DELIVERED = "MessagesDelivered"
METRIC_UNDELIVERED = "MessagesUndelivered"
# The dead-man's switch: the heartbeat task (beat fires it, a worker runs it) sends
# BeatHeartbeat every minute, and DailyBroadcastPending = 1 for each minute in which
# today's broadcast is due but has not begun; the worker (or send_daily) that begins
# a day's broadcast sends DailyBroadcastStarted.
METRIC_HEARTBEAT = "BeatHeartbeat"
METRIC_DAILY_PENDING = "DailyBroadcastPending"
METRIC_DAILY_STARTED = "DailyBroadcastStarted"
# Rows the DynamoDB mirror could not write, counted after every reconcile run.
METRIC_MIRROR_ERRORS = "MirrorErrors"
# A broadcast the brake paused (messaging.delivery.brake): 1 per pause.
METRIC_BROADCAST_BRAKED = "BroadcastBraked"


def sns_sms_log_groups(region: str, account_id: str) -> tuple[str, str]:
    """The log groups SNS writes SMS delivery status to: (successes, failures).

    AWS documents these names ("Viewing Amazon CloudWatch metrics and logs for
    SMS deliveries"); SNS creates them on first use, without retention.
    """
    success = f"sns/{region}/{account_id}/DirectPublishToPhoneNumber"
    return success, f"{success}/Failure"
