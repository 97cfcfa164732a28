"""The messaging screens of the admin: messages, broadcasts, daily content and schedule, costs.

Importing this package registers them. It is the top of the app: it may use
any part of messaging, and nothing imports it.
"""

from messaging.admin import broadcasts, messages, schedule  # noqa: F401
