"""The DynamoDB mirror of subscribers and conversations.

write.py builds items and writes them conditionally on the row's version,
bulk.py backfills, verifies and repairs, signals.py queues a mirror task for
every committed change, reconcile.py heals every five minutes what those tasks
missed, and admin.py holds the admin's re-sync action and mirror state. It
reads subscribers' models; it must not import consent changes, the admin of
subscribers, or anything of messaging.
"""
