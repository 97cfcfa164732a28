"""Hostile values typed into every admin form and list filter, as a superuser: no 5xx.

The forms and lists are found on the admin site itself (tests/security/doors.py):
every add and change page that shows a form is posted back with one input at a
time replaced by a hostile value, and every list is opened with each of its
filters, and lookups on each of its fields, set to hostile values. Values that
must never be stored (a date past the admin's range, JSON PostgreSQL cannot
hold) must be refused; the rest may be stored or refused, never a 5xx.
"""

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection, models
from django.test import Client
from django.test.client import RequestFactory

from tests.security import doors
from tests.security.conftest import Probe
from tests.security.samples import make_samples

HUGE_ID = "9" * 30
# Typed anywhere: must not 500; may be stored where the text is harmless.
ANYWHERE = ["a\x00b", "../../etc/passwd", "-1", HUGE_ID, "(", "x" * 1_000_000]
# Typed into a JSON field: must be refused.
JSON_REFUSED = [
    '{"k": "a\\u0000b"}',
    '{"k": "\\ud800"}',
    '{"\\u0000": 1}',
    "NaN",
    '{"k": Infinity}',
    "1e999",
    "[" * 5000 + "]" * 5000,
    "[" * 40 + "]" * 40,
    '"' + "x" * 100_000 + '"',
]
# Typed into a date or a date-and-time: must be refused (the real attack first).
DATES_REFUSED = ["9999-12-31 23:59", "9999-12-31T23:59", "9999-12-31", "0001-01-01", "1899-12-31"]
DATES_ANYWHERE = ["99999-01-01", "2026-13-45", "2026-02-30", "99999"]
TEN_MB = "x" * (10 * 1024 * 1024)

pytestmark = pytest.mark.django_db


class FormInputs(HTMLParser):
    """The name → values a browser would post for the form with the given id, and each
    input's kind ("text", "date", "json", "select", ...)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.kinds: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "name" not in a or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            self.kinds[name] = _kind(name, kind, a.get("class", ""))
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.data.setdefault(name, [])
                return
            self.data.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            self.kinds[name] = "select"
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self.kinds[name] = "textarea"
            self.data[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            if self.data[self._textarea][0].startswith("\n"):
                self.data[self._textarea][0] = self.data[self._textarea][0][1:]
            self._textarea = None


def _kind(name: str, kind: str, css: str) -> str:
    if kind in ("date", "datetime-local") or "vDateField" in css or "vTimeField" in css:
        return "date"
    return kind


def form_inputs(client: Client, path: str, model: type[models.Model]) -> FormInputs | None:
    page = client.get(path)
    assert page.status_code < 500, (path, page.status_code)
    if page.status_code != 200:
        return None
    parser = FormInputs(f"{model._meta.model_name}_form")
    parser.feed(page.content.decode())
    if not parser.data:
        return None  # a read-only page: no form to post
    form = page.context["adminform"].form if "adminform" in page.context else None
    if form is not None:
        for name, field in form.fields.items():
            if name in parser.kinds and type(field).__name__.endswith("JSONField"):
                parser.kinds[name] = "json"
    return parser


def hostile_values(kind: str) -> list[tuple[str, bool]]:
    """(value, must be refused) for an input of the kind."""
    values = [(value, False) for value in ANYWHERE]
    if kind in ("json",):
        values += [(value, True) for value in JSON_REFUSED]
    if kind in ("date", "datetime-local"):
        values += [(value, True) for value in DATES_REFUSED]
        values += [(value, False) for value in DATES_ANYWHERE]
    return values


def post(client: Client, path: str, data: dict[str, list[str]]):
    # Encoded by hand: the test client would refuse a lone surrogate, a browser does not.
    body = urlencode([(k, v) for k, values in data.items() for v in values], errors="surrogatepass")
    return client.post(path, body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def samples(db: None) -> dict[type[models.Model], models.Model]:
    return make_samples()


@pytest.fixture
def superuser(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("hostile-admin", password="x-0123456789"))
    return client


def form_pages(samples: dict[type[models.Model], models.Model]) -> list[doors.Page]:
    return [
        page
        for page in doors.pages(samples)
        if page.model is not None and page.key.endswith(("_add", "_change"))
    ]


def test_every_admin_form_refuses_hostile_values_without_a_5xx(samples, superuser, probe: Probe):
    probe.must_refuse = 0
    posted = 0
    for page in form_pages(samples):
        inputs = form_inputs(superuser, page.path, page.model)
        if inputs is None:
            continue
        posted += 1
        big = probe.attack(post(superuser, page.path, {**inputs.data, "_": [TEN_MB]}))
        assert big.status_code == 400, page.path
        probe.must_refuse += 1
        for name, kind in inputs.kinds.items():
            if name in ("csrfmiddlewaretoken",):
                continue
            for value, must_refuse in hostile_values(kind):
                data = {**inputs.data, name: [value]}
                if name.endswith("_0") and name[:-2] + "_1" in data:  # a split date and time
                    date_part, _, time_part = value.replace("T", " ").partition(" ")
                    data[name] = [date_part]
                    data[name[:-2] + "_1"] = [time_part or "23:59"]
                response = post(superuser, page.path, data)
                stored = response.status_code == 302
                probe.attack(response, refused=must_refuse and not stored)
                probe.must_refuse += must_refuse
                assert not (must_refuse and stored), (page.path, name, value[:40])
    assert posted >= 10, "the forms were not found"
    # Whatever was stored, every list and every sample's page still opens.
    for page in doors.pages(samples):
        if page.model is not None and page.key.endswith(("_changelist", "_change")):
            assert superuser.get(page.path).status_code < 500, page.path


def test_the_far_future_broadcast_time_is_refused_with_a_message(samples, superuser):
    inputs = form_inputs(superuser, "/admin/messaging/broadcast/add/", admin_model("broadcast"))
    far = {"name": ["Far"], "text": ["Hello"], "scheduled_for": ["9999-12-31T23:59"]}
    data = {**inputs.data, **far}
    response = post(superuser, "/admin/messaging/broadcast/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["scheduled_for"] == [
        "Pick a date between Mon 1 Jan 1900 and Tue 31 Dec 2199."
    ]


def admin_model(name: str) -> type[models.Model]:
    return next(m for m in admin.site._registry if m._meta.model_name == name)


# Lookups tried on every field of every list, by the field's kind: (lookup, values).
LOOKUPS_ANY = [("exact", ["\x00", "nope", HUGE_ID]), ("in", ["1,x"]), ("range", ["1"])]
# "(?P<x>a)" is a Python regex PostgreSQL refuses.
LOOKUPS_TEXT = [("regex", ["(", "(?P<x>a)"])]
LOOKUPS_DATE = [("year", ["99999"]), ("month", ["13"]), ("day", ["32"]), ("date", ["2026-02-30"])]
# Must be refused (Django's "?e=1" with a message): the values the database cannot use.
MUST_REFUSE = {("regex", "("), ("year", "99999"), ("range", "1")}
if connection.vendor == "postgresql":
    MUST_REFUSE.add(("regex", "(?P<x>a)"))
FILTER_VALUES = ["\x00", "../", HUGE_ID, "99999", "2026-02-30"]


def field_lookups(model: type[models.Model]) -> list[tuple[str, str, bool]]:
    found = [("nope__exact", "1", False), ("q", "\x00", False), ("o", "99.-x", False),
             ("p", HUGE_ID, False), ("_to_field", "../", False)]  # fmt: skip
    for field in model._meta.concrete_fields:
        lookups = list(LOOKUPS_ANY)
        if isinstance(field, models.CharField | models.TextField):
            lookups += LOOKUPS_TEXT
        if isinstance(field, models.DateField):  # DateTimeField too
            lookups += LOOKUPS_DATE
        for lookup, values in lookups:
            for value in values:
                must = "\x00" in value or (lookup, value) in MUST_REFUSE
                found.append((f"{field.attname}__{lookup}", value, must))
    return found


def filter_parameters(model_admin: admin.ModelAdmin, request: Any) -> list[str]:
    changelist = model_admin.get_changelist_instance(request)
    names = [p for spec in changelist.filter_specs for p in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return names


def test_every_list_filter_refuses_hostile_values_without_a_5xx(samples, superuser, probe: Probe):
    probe.must_refuse = 0
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="hostile-admin")
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        # A screen of its own (no ChangeList) reads no filters: nothing to refuse there.
        filtered = "cl" in (superuser.get(path).context or {})
        names = filter_parameters(model_admin, request)
        tries = [(name, value, "\x00" in value) for name in names for value in FILTER_VALUES]
        for name, value, must_refuse in tries + field_lookups(model):
            must = must_refuse and filtered
            response = superuser.get(path, {name: value})
            refused = response.status_code == 400 or (
                response.status_code == 302 and response["Location"].endswith(f"?{ERROR_FLAG}=1")
            )
            probe.attack(response, refused=must and refused)
            probe.must_refuse += must
            assert refused or not must, (path, name, value)
            if must and response.status_code == 302:
                notes = [str(m) for m in get_messages(response.wsgi_request)]
                assert any("could not be filtered" in note for note in notes), (name, notes)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL stores a year Python cannot read"
)
def test_a_stored_time_past_year_9999_is_shown_and_fixable_on_postgresql(samples, superuser):
    broadcast = samples[admin_model("broadcast")]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_broadcast SET scheduled_for = '10000-01-01 05:59+00' WHERE id = %s",
            [broadcast.pk],
        )
    change = f"/admin/messaging/broadcast/{broadcast.pk}/change/"
    for path in ("/admin/", "/admin/messaging/broadcast/", change):
        assert superuser.get(path).status_code == 200, path
    inputs = form_inputs(superuser, change, admin_model("broadcast"))
    assert inputs.data["scheduled_for"][0].startswith("9999-12-")
    refused = post(superuser, change, inputs.data)
    assert "scheduled_for" in refused.context["adminform"].form.errors
    fixed = post(superuser, change, {**inputs.data, "scheduled_for": ["2199-12-01T10:00"]})
    assert fixed.status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.scheduled_for.year == 2199


def test_deleting_a_user_who_acted_names_the_audit_entries_instead_of_failing(samples, superuser):
    user = User.objects.get(username="sample-user")  # the samples' audit entry is theirs
    path = f"/admin/auth/user/{user.pk}/delete/"
    for response in (superuser.get(path), superuser.post(path, {"post": "yes"})):
        assert response.status_code == 200
        assert "audit log entr" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
