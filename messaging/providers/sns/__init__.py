"""AWS SNS: SMS by Publish, and the HTTP(S) endpoint of the portal's topics.

send.py publishes SMS, verification.py proves a message came from SNS for one
of our topics, notifications.py says what a verified message does,
subscriptions.py confirms our HTTPS subscriptions and webhook.py is the view.
Only this folder speaks SNS's payload formats.
"""
