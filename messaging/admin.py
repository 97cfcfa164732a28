"""Admin registrations live in one module per area; importing them registers them."""

from messaging import admin_broadcasts, admin_log  # noqa: F401
