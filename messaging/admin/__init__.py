"""The messaging screens of the admin: messages, broadcasts, daily content and
schedule, costs, and the conversation thread on the subscriber page (through
subscribers.hooks).

Importing this package registers them. It is the top of the app: it may use
any part of messaging, and nothing imports it.
"""

from messaging.admin import (  # noqa: F401
    broadcasts,
    consent_proof,
    messages,
    prices,
    schedule,
    thread,
)
