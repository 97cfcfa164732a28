"""Providers: one folder per vendor, and the interface they share.

base.py is the contract (send one message or raise a classified
ProviderError), registry.py picks the configured provider, console.py records
and sends nothing. twilio/ and sns/ each hold all of one vendor: sending,
webhook views, signature checks and vendor payloads. Webhook views hand over
to messaging.inbound and messaging.delivery; nothing here may import the
dispatcher, billing, broadcasts, reports or the admin.
"""
