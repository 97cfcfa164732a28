"""The portal's own date formats (FORMAT_MODULE_PATH), ahead of Django's locale ones."""
