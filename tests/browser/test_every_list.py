"""Every list in the admin shows its rows by default and fits a laptop's window.

The lists are discovered from the admin site, not written down here: a model
registered tomorrow is opened too, and must have a row made for it below.
"""

import pytest
from django.contrib import admin
from django.core.management import call_command

from tests.ops.factories import OPS_PASSWORD
from tests.security.samples import make_samples

pytestmark = pytest.mark.browser


def make_rows() -> None:
    """At least one row of every registered model: the demo data, and one sample of each."""
    call_command("seed_demo")  # subscribers, consent events, conversations, messages, ...
    make_samples(phone="+13125550199")  # a number the demo data does not use


# Admins whose list URL shows one screen instead of a list (actions turned off).
SCREENS = {
    m._meta.label for m, model_admin in admin.site._registry.items() if model_admin.actions is None
}


def changelists() -> list[tuple[str, str]]:
    """(model label, changelist URL) of every model the admin site lists."""
    return sorted(
        (model._meta.label, f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        for model in admin.site._registry
    )


def test_every_changelist_lists_its_rows_without_a_query_and_fits_the_window(
    visitor, transactional_db, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@example.test", OPS_PASSWORD)
    make_rows()
    empty = [m._meta.label for m in admin.site._registry if not m._default_manager.exists()]
    assert not empty, f"no row of {empty}: make one in make_rows() so its list is checked"

    visitor.log_in("root", OPS_PASSWORD)
    page = visitor.page
    opened = []
    for label, url in changelists():
        # goto checks the page: no script error, no failed asset, no list wider than 1440 px.
        visitor.goto(url)
        if label in SCREENS:
            continue
        rows = page.locator("#result_list tbody tr")
        assert rows.count() >= 1, f"{label}: {url} lists no rows"
        assert page.locator("#changelist").is_visible()
        opened.append(label)
    # The audit trail's lists, empty before the shared phone search, stay filled.
    assert {"subscribers.ConsentEvent", "subscribers.Conversation"} <= set(opened)
    assert {"messaging.Message", "messaging.Broadcast", "subscribers.Subscriber"} <= set(opened)
