"""Amazon SES v2: e-mail, its feedback (bounces, complaints) and the account's rate.

send.py sends one message through django-anymail's Amazon SES backend (SendEmail
with raw MIME, our configuration set, the one-click unsubscribe headers),
render.py turns a message into its subject, plain text and HTML, quota.py reads
the account's MaxSendRate for the send-rate limiter, feedback.py applies SES's
bounce and complaint notifications and webhook.py is /webhooks/ses/ (verified as
SNS messages of the portal's own feedback topic). Only this folder speaks SES.
"""
