"""Subscribers: phone numbers, consent with its evidence, conversations.

consent.change is the only writer of consent, delivery_window the only writer of a
delivery window (pause, preferred time); localtime holds the rules of a
recipient's clock (zones, quiet hours). The app owns phone parsing, the opt-in
page and API, import and export, erasure and the DynamoDB mirror (mirror/); it
builds on smsbot and must not import messaging, which plugs into it through
subscribers.hooks (the thread on the subscriber page, the price of a
confirmation).
"""
