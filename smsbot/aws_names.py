"""Names the portal and its AWS side agree on: SNS topics and CloudWatch metrics.

provision_aws creates resources and alarms under these names; the apps verify
messages against the topics and publish the metrics. Both import them from
here, so the core never reaches into an app for them. Every resource name
also takes AWS_RESOURCE_PREFIX (smsbot.aws.resource_name).
"""

INBOUND_TOPIC = "bot-sms-inbound"
DELIVERY_STATUS_TOPIC = "sms-delivery-status"

METRICS_NAMESPACE = "SMSBot"
METRIC_SENT = "MessagesSent"
METRIC_FAILED = "MessagesFailed"
METRIC_SPEND = "SpendUSD"
