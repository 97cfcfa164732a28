"""Every link an operator is shown leads somewhere they may go.

Logged in as each group, the test walks every admin page reachable from the home
page (breadth first, following <a href> within /admin/) and asserts that no link
on any page answers 403 for that role: a screen offers only what its user may do.
"""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.test import Client

from tests.security.conftest import DEVOPS, OPS, role_user
from tests.security.samples import make_samples

# Links that act or leave rather than show a page: following them is not looking.
NOT_WALKED = ("/admin/logout/", "/export/download/", "/qrcode.svg")
# Enough to reach every list, its filters, its objects and their pages.
MAX_PAGES = 400


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "mailto:", "javascript:")):
            self.hrefs.append(href)


def links_of(page_url: str, html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return [urldefrag(urljoin(page_url, href)).url for href in parser.hrefs]


def walk(client: Client) -> tuple[set[str], list[str]]:
    """Pages seen, and "link -> status (on page)" for every link refused with 403."""
    seen: set[str] = set()
    queue = ["/admin/"]
    forbidden: list[str] = []
    answered: dict[str, int] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        answered[url] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in links_of(url, response.content.decode()):
            parts = urlsplit(link)
            if parts.netloc not in ("", "testserver") or not parts.path.startswith("/admin/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if any(part in target for part in NOT_WALKED):
                continue
            if target not in answered:
                answered[target] = client.get(target).status_code
            if answered[target] == 403 and not any(f.startswith(target + " ") for f in forbidden):
                forbidden.append(f"{target} (on {url})")
            elif answered[target] == 200 and target not in seen and _worth_walking(target):
                queue.append(target)
    return seen, forbidden


def _worth_walking(target: str) -> bool:
    # A filtered, sorted or paged list shows the links of the list again: such links
    # are opened (checked for 403), their pages not walked.
    return not urlsplit(target).query


@pytest.mark.parametrize("role", [OPS, DEVOPS])
def test_no_link_an_operator_is_shown_answers_403(db, settings, role):
    settings.DYNAMODB_SYNC_ENABLED = True
    make_samples()
    client = Client()
    client.force_login(role_user(role))
    seen, forbidden = walk(client)
    assert len(seen) > 20, sorted(seen)
    assert not forbidden, f"{len(forbidden)} links answer 403 for {role}:\n" + "\n".join(
        sorted(forbidden)
    )


def test_a_refused_page_is_said_in_the_portals_frame(db):
    client = Client()
    client.force_login(role_user(OPS))
    response = client.get("/admin/messaging/dailycontent/add/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "smsbot operations" in page and "You are not allowed to do this" in page
    assert "smsbot/admin.css" in page and "Back to the dashboard" in page


def test_a_refused_page_outside_the_admin_is_plain(db):
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_user("member", password="member-password-0123"))
    response = client.get("/admin/messaging/message/")  # not staff: the login page
    assert response.status_code == 302
    # The handler itself, for a non-staff user: the public page's dress, no admin frame.
    from django.test import RequestFactory

    from smsbot.views import permission_denied

    request = RequestFactory().get("/anything/")
    request.user = User.objects.get(username="member")
    page = permission_denied(request, Exception()).content.decode()
    assert "You are not allowed to do this" in page and "smsbot operations" not in page
