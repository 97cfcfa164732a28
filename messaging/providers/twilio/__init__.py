"""Twilio: the Messages API client, its webhooks and their signatures.

send.py sends SMS and WhatsApp through the official client, window.py knows
WhatsApp's 24-hour window, opt_out.py knows which keywords Twilio answers itself,
signature.py checks X-Twilio-Signature (either auth token during a rotation) and
webhooks.py holds the inbound and status-callback views. Only this folder
speaks Twilio's parameter names.
"""
