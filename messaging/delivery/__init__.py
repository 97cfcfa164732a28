"""Delivery: what providers report about the messages we sent.

It owns applying delivery reports (status forward only, actual price, error
meaning), the provider error codes, and the one place that decides what an
error does to a number (opt-out, undeliverable). It must not import the
dispatcher, billing, broadcasts, a provider, reports or the admin; the brake
alone (delivery.brake) pauses a broadcast through messaging.broadcasts.states.
"""
