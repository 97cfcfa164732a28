"""AWS SNS: SMS by Publish, delivery from its CloudWatch Logs, and the portal's topic.

send.py publishes SMS, delivery_logs.py reads SNS's SMS delivery log groups
(status and actual price), verification.py proves a message came from SNS for
the portal's inbound topic, notifications.py says what a verified message does,
subscriptions.py confirms our HTTPS subscription and webhook.py is the view.
Only this folder speaks SNS's payload formats.
"""
