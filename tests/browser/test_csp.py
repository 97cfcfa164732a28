"""Every admin page, and the opt-in page, work in Chromium under the Content-Security-Policy.

Chromium reports each blocked inline script, inline style, style attribute or
foreign resource as a `securitypolicyviolation` event (and a console error);
the harness fails a page on either. Pages come from the admin site itself
(tests/security/doors.py): every page a superuser may open, django-import-export's
and django-celery-beat's included.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from smsbot import enrolment
from tests.security import doors
from tests.security.conftest import SUPER
from tests.security.samples import make_samples
from tests.security.test_role_table import TABLE

pytestmark = pytest.mark.browser

PASSWORD = "csp-test-password-0123"
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => console.error(
    'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')
    + ' at ' + e.sourceFile + ':' + e.lineNumber));
"""
# Not pages to look at: POST-only, or not HTML.
# Not pages: a POST-only view, a script, an image, redirects, files to download.
SKIP = {
    "logout", "jsi18n", "two_factor_qrcode", "view_on_site", "autocomplete",
    "subscribers_subscriber_import_template", "subscribers_subscriber_export_download",
    "subscribers_subscriber_export_status", "messaging_broadcast_progress",
    "enrol",  # needs a link's token: opened with one below
}  # fmt: skip


@pytest.fixture
def csp_visitor(visitor):
    visitor.page.add_init_script(REPORT_VIOLATIONS)
    return visitor


def open_page(visitor, path: str) -> None:
    response = visitor.goto(path)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
    visitor.page.wait_for_timeout(50)  # let late violation reports arrive
    visitor.check()


def test_the_public_and_login_pages_run_under_the_policy(csp_visitor, transactional_db):
    open_page(csp_visitor, "/optin/")
    open_page(csp_visitor, "/admin/login/")
    user = User.objects.create_user("staff", password=PASSWORD, is_staff=True)
    _, token = enrolment.issue(user, None)
    open_page(csp_visitor, enrolment.link_url(token).removeprefix(settings.PUBLIC_BASE_URL))


def test_every_admin_page_runs_under_the_policy(csp_visitor, transactional_db, tmp_path: Path):
    samples = make_samples()
    User.objects.create_superuser("root", "root@example.test", PASSWORD)
    csp_visitor.log_in("root", PASSWORD)
    visited = 0
    for page in doors.pages(samples):
        get_roles, _ = TABLE[page.key]
        if page.key in SKIP or SUPER not in get_roles:
            continue
        open_page(csp_visitor, page.path)
        visited += 1
    assert visited > 80

    # Pages reached through forms: an action's intermediate page, an import preview.
    page = csp_visitor.page
    open_page(csp_visitor, "/admin/subscribers/subscriber/")
    page.locator("#result_list input.action-select").first.check()
    page.select_option("select[name=action]", "opt_out")
    csp_visitor.follow(page.locator("button[name=index]"))
    assert "Reason for opting out" in page.content()

    # Moved out of inline code: the export page's "Select all" box, beat's crontab words.
    open_page(csp_visitor, "/admin/messaging/dailycontent/export/")
    fields = page.locator(".selectable-field-export-row input[type=checkbox]")
    assert fields.count() >= 2
    page.uncheck("input.select-toggle")
    assert not any(fields.nth(i).is_checked() for i in range(fields.count()))
    open_page(csp_visitor, "/admin/django_celery_beat/periodictask/add/")
    page.select_option("#id_crontab", index=1)
    assert "Translation: " in page.inner_text(".field-crontab .help")

    csv_file = tmp_path / "daily.csv"
    csv_file.write_text("date,text,whatsapp_content_sid,whatsapp_content_variables\n"
                        "2027-03-01,Spring is here,,\n")  # fmt: skip
    open_page(csp_visitor, "/admin/messaging/dailycontent/import/")
    page.set_input_files("input[type=file]", str(csv_file))  # CSV is the one format offered
    csp_visitor.follow(page.locator("input[type=submit]"))
    assert "Spring is here" in page.content()
