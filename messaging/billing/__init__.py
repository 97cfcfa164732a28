"""Billing: what a message costs, and what we may still spend.

It owns SMS segments (GSM-7 versus UCS-2), price estimates from the country
price table, the unsaved outbound Message built with both (build.outbound,
which every sender uses) and the monthly spend budget. Outbound, broadcasts,
inbound and reports all read it, so it stands below them: it must not import
outbound, broadcasts, inbound, delivery, a provider, reports or the admin.
"""
