"""Imports that cannot be steered: the confirmation takes only the server's token.

Every attack goes through the admin over HTTP, as the role that may import:
the Operations Manager (subscribers) and DevOps (daily content). A refused
confirmation answers with a message on the import page (a redirect), imports
nothing and reads or deletes nothing outside the private directory.
"""

import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from messaging.models import DailyContent
from smsbot.imports import files, tokens
from smsbot.models import ImportPreview
from subscribers.models import Subscriber
from tests.security.conftest import DEVOPS, OPS, ensure_role_groups, role_user

pytestmark = pytest.mark.django_db

SUBSCRIBERS = "phone,evidence\n+13125550101,fair sheet\n+13125550102,fair sheet\n"
DAYS = "date,text,whatsapp_content_sid,whatsapp_content_variables\n2027-03-01,Planted day,,\n"
# (admin url prefix, role that imports there, a good file, what counts as imported)
ADMINS = {
    "subscribers_subscriber": (OPS, SUBSCRIBERS, lambda: Subscriber.objects.count()),
    "messaging_dailycontent": (DEVOPS, DAYS, lambda: DailyContent.objects.count()),
}


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    """Each test its own private directory, to count what it leaves there."""
    settings.IMPORT_DIR = tmp_path / "imports"


def client_for(role: str, name: str | None = None) -> Client:
    """Logged in as a user of the role; a second user of a role needs its own name."""
    if name:
        ensure_role_groups()
        user = User.objects.create_user(name, password="x", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    else:
        user = role_user(role)
    client = Client()
    client.force_login(user)
    return client


def preview(client: Client, prefix: str, text: str | bytes, name: str = "file.csv"):
    body = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse(f"admin:{prefix}_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile(name, body, "text/csv")},
    )


def confirm(client: Client, prefix: str, data: dict):
    return client.post(reverse(f"admin:{prefix}_process_import"), data, follow=True)


def refused(response, prefix: str) -> bool:
    """Answered with the import page and a message saying nothing was imported."""
    return (
        response.status_code == 200
        and response.redirect_chain[-1][0] == reverse(f"admin:{prefix}_import")
        and "Nothing imported." in response.content.decode()
    )


@pytest.fixture
def planted():
    """Files an attacker would name: in the system temp folder and next to the private one."""
    places = [Path(tempfile.gettempdir()), files.directory().parent]
    paths = []
    for place in places:
        path = place / "planted_dc.csv"
        path.write_text(DAYS.replace("Planted day", "planted") + SUBSCRIBERS, encoding="utf-8")
        paths.append(path)
    yield paths
    for path in paths:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize("prefix", ADMINS)
def test_a_file_name_from_the_browser_is_never_read_nor_deleted(prefix, planted, probe):
    role, _, imported = ADMINS[prefix]
    client = client_for(role)
    names = [
        "../../planted_dc.csv",
        "planted_dc.csv",
        str(planted[0]),
        "../planted_dc.csv",
        "..%2F..%2Fplanted_dc.csv",
        "/etc/hostname",
    ]
    for name in names:
        for field in ("import_file_name", "import_token"):
            data = {field: name, "original_file_name": "x.csv", "format": "0", "resource": "0"}
            response = confirm(client, prefix, data)
            probe.attack(response, refused=refused(response, prefix))
    assert imported() == 0
    assert all(path.exists() for path in planted)


@pytest.mark.parametrize("prefix", ADMINS)
def test_a_token_naming_a_path_is_refused_even_when_signed(prefix, planted, probe):
    """A token is only ever signed for a name the portal chose; were one forged with the
    secret key, a path in it still reaches nothing outside the private directory."""
    role, _, imported = ADMINS[prefix]
    client = client_for(role)
    user_id = client.session["_auth_user_id"]
    label = prefix.replace("_", ".", 1)
    for name in ["../planted_dc.csv", str(planted[0]), "../../tmp/planted_dc.csv", ""]:
        token = tokens.issue(tokens.StoredUpload(name, "x.csv", 0, 0), int(user_id), label)
        response = confirm(client, prefix, {"import_token": token})
        probe.attack(response, refused=refused(response, prefix))
    assert imported() == 0
    assert all(path.exists() for path in planted)


@pytest.mark.parametrize("prefix", ADMINS)
def test_another_users_token_is_refused_and_stays_the_owners(prefix, probe):
    role, text, imported = ADMINS[prefix]
    owner, other = client_for(role), client_for(role, "someone-else")
    page = preview(owner, prefix, text)
    token = page.context["confirm_form"].initial["import_token"]
    response = confirm(other, prefix, {"import_token": token})
    probe.attack(response, refused=refused(response, prefix))
    assert "made by someone else" in response.content.decode()
    assert imported() == 0
    # The owner still confirms their own preview; the token then works once only.
    done = confirm(owner, prefix, {"import_token": token})
    assert "Import finished" in done.content.decode() and imported() > 0
    again = confirm(owner, prefix, {"import_token": token})
    probe.attack(again, refused=refused(again, prefix))
    assert "imported already or has expired" in again.content.decode()


def test_a_token_of_one_import_does_not_confirm_another(probe):
    client = client_for(DEVOPS)
    client.force_login(role_user("superuser"))
    page = preview(client, "subscribers_subscriber", SUBSCRIBERS)
    token = page.context["confirm_form"].initial["import_token"]
    response = confirm(client, "messaging_dailycontent", {"import_token": token})
    probe.attack(response, refused=refused(response, "messaging_dailycontent"))
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = confirm(client, "subscribers_subscriber", {"import_token": tampered})
    probe.attack(response, refused=refused(response, "subscribers_subscriber"))
    assert not Subscriber.objects.exists() and not DailyContent.objects.exists()


@pytest.mark.parametrize("prefix", ADMINS)
def test_an_expired_token_is_refused(prefix, monkeypatch, settings, probe):
    role, text, imported = ADMINS[prefix]
    client = client_for(role)
    token = preview(client, prefix, text).context["confirm_form"].initial["import_token"]
    later = time.time() + settings.IMPORT_CONFIRM_MINUTES * 60 + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = confirm(client, prefix, {"import_token": token})
    probe.attack(response, refused=refused(response, prefix))
    assert f"older than {settings.IMPORT_CONFIRM_MINUTES} minutes" in response.content.decode()
    assert imported() == 0


@pytest.mark.parametrize("prefix", ADMINS)
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html>\n<html><body><table><tr><td>date</td></tr></table></body></html>\n",
         "web page (HTML or XML)"),
        (b"<html>\n<p>hello, world</p>\n</html>", "web page (HTML or XML)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
        (b"phone,evidence\n\x00\x01,\x02\n", "binary"),
        ("date,text\n2027-01-01,caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
        (b"", "The submitted file is empty"),
        (b"nothing,useful\n1,2\n", "column"),
        (b"phone,date,evidence\n", "no rows"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_the_expected_csv_gets_a_sentence(prefix, body, reason, probe):
    role, _, imported = ADMINS[prefix]
    client = client_for(role)
    response = preview(client, prefix, body, "page.csv")
    html = response.content.decode()
    probe.attack(response, refused=response.status_code == 200 and reason in html)
    assert "Confirm import" not in html and "Traceback" not in html
    assert imported() == 0


@pytest.mark.parametrize("prefix", ADMINS)
def test_only_csv_is_offered_and_another_format_is_refused(prefix, probe):
    role, text, _ = ADMINS[prefix]
    client = client_for(role)
    page = client.get(reverse(f"admin:{prefix}_import"))
    assert [label for _, label in page.context["form"].fields["format"].choices] == ["csv"]
    for fmt in ("1", "4", "-1", "x"):
        response = client.post(
            reverse(f"admin:{prefix}_import"),
            {"format": fmt, "import_file": SimpleUploadedFile("a.html", text.encode())},
        )
        probe.attack(
            response,
            refused=response.status_code == 200 and "errorlist" in response.content.decode(),
        )


@pytest.mark.parametrize("prefix", ADMINS)
def test_files_past_the_limits_are_refused(prefix, settings, probe):
    role, text, imported = ADMINS[prefix]
    client = client_for(role)
    settings.IMPORT_MAX_BYTES = 40
    response = preview(client, prefix, text)
    probe.attack(response, refused="can be imported at once" in response.content.decode())
    settings.IMPORT_MAX_BYTES = 5 * 1024 * 1024
    settings.IMPORT_MAX_ROWS = 1
    response = preview(client, prefix, text + text.splitlines()[-1] + "\n")
    html = response.content.decode()
    probe.attack(response, refused="at most 1 can be imported at once" in html)
    assert imported() == 0 and not any(files.directory().iterdir())


@pytest.mark.parametrize("prefix", ADMINS)
def test_the_file_waits_privately_and_the_page_names_no_path(prefix):
    role, text, imported = ADMINS[prefix]
    client = client_for(role)
    page = preview(client, prefix, text)
    html = page.content.decode()
    stored = list(files.directory().iterdir())
    assert len(stored) == 1
    assert stat.S_IMODE(files.directory().stat().st_mode) == 0o700
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    for secret in (str(files.directory()), tempfile.gettempdir(), stored[0].name):
        assert secret not in html
    assert 'name="import_file_name"' not in html
    done = confirm(client, prefix, page.context["confirm_form"].initial)
    assert "Import finished" in done.content.decode() and imported() > 0
    assert not any(files.directory().iterdir())  # removed once confirmed


def test_stale_files_are_swept_on_the_next_upload(settings):
    client = client_for(OPS)
    stale = files.directory() / files.save(b"old preview")
    old = time.time() - settings.IMPORT_CONFIRM_MINUTES * 60 - 60
    os.utime(stale, (old, old))
    # What a killed process leaves of an upload Django was writing (FILE_UPLOAD_TEMP_DIR).
    leftover = files.directory() / "tmpk3v9x_2q.upload.csv"
    leftover.write_bytes(b"half an upload")
    os.utime(leftover, (old, old))
    not_ours = files.directory() / "README"
    not_ours.write_text("kept")
    preview(client, "subscribers_subscriber", SUBSCRIBERS)
    assert not stale.exists() and not leftover.exists() and not_ours.exists()
    assert len([p for p in files.directory().iterdir() if p != not_ours]) == 1
    not_ours.unlink()


# Files the process opens while a test records: Python's "open" audit event, raised by
# every open and os.open, Django's upload files included. A hook cannot be removed, so
# one is added once and records only while asked to.
OPENED: list[str] | None = None


def _record_open(event: str, args: tuple) -> None:
    if OPENED is not None and event == "open" and isinstance(args[0], str | bytes):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_record_open)


def test_a_large_upload_is_written_to_the_private_directory_not_tmp(settings, probe):
    """Django writes an upload past FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) to a file before
    the import can refuse it: into the private directory, never the shared /tmp."""
    global OPENED
    upload_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    # Created private when the portal started (smsbot.private_files), before any upload.
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    assert upload_dir.resolve() != Path(tempfile.gettempdir()).resolve()
    client = client_for(OPS)
    big = SUBSCRIBERS + "x" * (7_500_000 - len(SUBSCRIBERS))  # the audit's 7.5 MB file
    OPENED = []
    try:
        response = preview(client, "subscribers_subscriber", big)
        opened = [path for path in OPENED if ".upload" in Path(path).name]
    finally:
        OPENED = None
    probe.attack(response, refused="can be imported at once" in response.content.decode())
    assert len(opened) == 1, opened
    assert Path(opened[0]).parent == upload_dir
    # Gone with its request, and nothing of it imported.
    assert not Path(opened[0]).exists() and Subscriber.objects.count() == 0


def test_a_large_file_is_previewed_by_a_worker_with_progress(celery_worker, settings, probe):
    settings.IMPORT_INLINE_ROWS = 3
    rows = "".join(f"+131255501{n:02d},fair sheet\n" for n in range(10, 16))
    owner = client_for(OPS)
    response = preview(owner, "subscribers_subscriber", "phone,evidence\n" + rows, "big.csv")
    preview_row = ImportPreview.objects.get()
    page_url = reverse("admin:subscribers_subscriber_import_preview", args=[preview_row.pk])
    assert response.status_code == 302 and response["Location"] == page_url
    page = owner.get(page_url)
    assert b"smsbot/import_preview.js" in page.content and b"big.csv: 6 rows" in page.content

    status_url = reverse(
        "admin:subscribers_subscriber_import_preview_status", args=[preview_row.pk]
    )
    status = owner.get(status_url).json()
    deadline = time.monotonic() + 30
    while status["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        status = owner.get(status_url).json()
    assert (status["state"], status["done"], status["total"], status["percent"]) == (
        "done", 6, 6, 100
    )  # fmt: skip
    assert not Subscriber.objects.exists()  # a preview writes nothing
    page = owner.get(page_url)
    html = page.content.decode()
    assert "6 new, 0 changed, 0 unchanged" in html and "Confirm import" in html
    assert "No row asks for a confirmation message." in html  # the admin's own note

    # Someone else with the same role sees neither the preview nor its status.
    other = client_for(OPS, "another-manager")
    for url in (page_url, status_url):
        probe.attack(other.get(url))

    done = confirm(owner, "subscribers_subscriber", page.context["confirm_form"].initial)
    assert "Import finished: 6 new" in done.content.decode()
    assert Subscriber.objects.count() == 6
    assert ImportPreview.objects.get().data == b""  # the worker's copy is emptied
