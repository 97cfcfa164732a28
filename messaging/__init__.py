"""Messaging: every message in and out, and what the portal does with it.

Grouped by concern, each subpackage saying in its own docstring what it owns
and what it must not import: inbound (webhook pipeline, keywords, bot),
outbound (building and sending one message safely), broadcasts (fan-out,
daily schedule), delivery (what providers report back), providers (one
folder per vendor), reports (figures, dashboard) and admin (the screens).
Models, Celery tasks and URLs sit at the top, shared by all of them.
"""
