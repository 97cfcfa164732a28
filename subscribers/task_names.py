"""The names of the subscribers app's Celery tasks, which subscribers.tasks registers.

Queue them by these constants, never by a string of one's own: a misspelt
constant fails at import, and a test checks every name is a registered task.
"""

MIRROR_SUBSCRIBER = "subscribers.mirror_subscriber"
MIRROR_CONVERSATION = "subscribers.mirror_conversation"
MIRROR_DELETE_SUBSCRIBER = "subscribers.mirror_delete_subscriber"
MIRROR_DELETE_CONVERSATION = "subscribers.mirror_delete_conversation"
EXPORT_SUBSCRIBERS = "subscribers.export_subscribers"
RECONCILE_MIRROR = "subscribers.reconcile_mirror"
