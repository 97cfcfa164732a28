"""The subscribers screens of the admin; importing this package registers them."""

from subscribers.admin import history, subscribers  # noqa: F401
