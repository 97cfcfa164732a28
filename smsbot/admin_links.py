"""Whether a user may open an admin page, asked before a link to it is shown.

A screen offers only what its user may do: a link built without a request (the
dashboard's figures, the alerts) is checked here against the ModelAdmin that
answers it, with the same has_*_permission the view itself applies.
"""

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve

# The page a URL name ends with -> the ModelAdmin permission that page checks.
PAGE_PERMISSIONS = (
    ("_changelist", "has_view_or_change_permission"),
    ("_add", "has_add_permission"),
    ("_change", "has_view_or_change_permission"),
    ("_history", "has_view_or_change_permission"),
    ("_delete", "has_delete_permission"),
)


def may_open(request: HttpRequest, url: str | None) -> bool:
    """False for a model page of the admin the user would be refused; True otherwise
    (a page that is not a model's checks its own permission when it is opened, and a
    page of another site is that site's)."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.get_host():
        return True  # another site (AWS's or Twilio's documentation): not ours to refuse
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    model_admin = getattr(match.func, "model_admin", None)
    if model_admin is None:
        return True
    for suffix, check in PAGE_PERMISSIONS:
        if (match.url_name or "").endswith(suffix):
            return bool(getattr(model_admin, check)(request))
    return model_admin.has_view_or_change_permission(request)
