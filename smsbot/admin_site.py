"""The admin site operators log in to, and the rules every admin page shares.

- The product's name, and "View site" leading to the opt-in page.
- The two-factor step after the password (smsbot.two_factor), and the page an
  enrolment link opens (smsbot.enrolment).
- Every ModelAdmin registered here — the portal's own and those of
  django-celery-beat, auth, django-axes and django-otp alike — is given:
  before → after values in the audit trail for plain adds and edits
  (smsbot.audit.AuditedEditsMixin), a summary entry per import
  (smsbot.audit.AuditedImportsMixin), imports that cannot be steered
  (smsbot.imports.admin.GuardedImportsMixin: checked files in a private
  directory, a signed token to confirm), and the change permission as the
  requirement of any action that declares no permissions=
  (smsbot.admin_base.ActionsNeedPermissionMixin); form fields held to
  smsbot.admin_inputs' bounds (BoundedInputsMixin); list filters that are
  refused with a message, not a 500 (CheckedFiltersMixin); deletions that
  would take audit entries with them refused with the reason
  (ProtectedDeletionsMixin); and page titles in an operator's words
  (OperatorTitlesMixin).
"""

from typing import Any

from django.conf import settings
from django.contrib import admin, auth, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp.plugins.otp_static.models import StaticDevice
from import_export.admin import ImportMixin

from smsbot import enrolment, two_factor
from smsbot.admin_base import (
    ActionsNeedPermissionMixin,
    BoundedInputsMixin,
    CheckedFiltersMixin,
    OperatorTitlesMixin,
    ProtectedDeletionsMixin,
)
from smsbot.audit import AuditedEditsMixin, AuditedImportsMixin
from smsbot.imports.admin import GuardedImportsMixin


class PortalAdminSite(admin.AdminSite):
    site_header = "smsbot operations"
    site_title = "smsbot"
    index_title = "Is everything all right today?"
    # The public face of the portal is its opt-in page.
    site_url = "/optin/"
    # The app list sits on the home page; as a sidebar beside every list it would take
    # 300 of a laptop's 1440 px, and the message log needs them for its columns.
    enable_nav_sidebar = False
    login_form = two_factor.LoginForm

    def register(
        self,
        model_or_iterable: ModelBase | Any,
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        admin_class = admin_class or admin.ModelAdmin
        wanted = [
            AuditedEditsMixin,
            ActionsNeedPermissionMixin,
            BoundedInputsMixin,
            CheckedFiltersMixin,
            ProtectedDeletionsMixin,
            OperatorTitlesMixin,
        ]
        if issubclass(admin_class, ImportMixin):
            wanted += [AuditedImportsMixin, GuardedImportsMixin]
        mixins = tuple(m for m in wanted if not issubclass(admin_class, m))
        if mixins:
            names = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
            admin_class = type(admin_class.__name__, (*mixins, admin_class), names)
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The sections, under the names operators use (smsbot.apps): the day's work first,
        then the rest by name. Each role sees only the sections it has permissions in, so
        the Operations Manager's home page holds no internal one."""
        apps = super().get_app_list(request, app_label)
        first = {label: place for place, label in enumerate(OPERATIONS_SECTIONS)}
        return sorted(apps, key=lambda app: first.get(app["app_label"], len(first)))

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not two_factor.needs_second_factor(request)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("two-factor/", self.two_factor_view, name="two_factor"),
            path("two-factor/qrcode.svg", self.two_factor_qrcode, name="two_factor_qrcode"),
            path("enrol/", self.enrol_view, name="enrol"),
        ]
        return own + super().get_urls()

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not two_factor.needs_second_factor(request):
            response = super().login(request, extra_context)
            if not (request.method == "POST" and two_factor.needs_second_factor(request)):
                return response
        # The password was right (now or earlier): the code comes next.
        query = urlencode({"next": two_factor.safe_next(request, reverse("admin:index"))})
        return HttpResponseRedirect(f"{reverse('admin:two_factor')}?{query}")

    @method_decorator(never_cache)
    def enrol_view(self, request: HttpRequest) -> HttpResponse:
        """An enrolment link: its user logs in with their password, then enrols a device."""
        return csrf_protect(self._enrol_page)(request)

    def _enrol_page(self, request: HttpRequest) -> HttpResponse:
        token = request.POST.get("token") or request.GET.get("token") or ""
        context = {**self.each_context(request), "title": "Set up two-factor login"}
        try:
            link = enrolment.find(token)
        except enrolment.LinkRefused as refused:
            return self._enrol_response(request, {**context, "refusal": str(refused)})
        form = AdminAuthenticationForm(request, data=request.POST or None)
        context.update(form=form, token=token)
        if not form.is_valid():
            return TemplateResponse(request, "admin/enrol.html", context)
        user = form.get_user()
        try:
            enrolment.check(link, user)
        except enrolment.LinkRefused as refused:
            return self._enrol_response(request, {**context, "refusal": str(refused)})
        auth.login(request, user)
        enrolment.remember(request, link)
        query = urlencode({"next": reverse("admin:index")})
        return HttpResponseRedirect(f"{reverse('admin:two_factor')}?{query}")

    def _enrol_response(self, request: HttpRequest, context: dict) -> HttpResponse:
        return TemplateResponse(request, "admin/enrol.html", context, status=400)

    @method_decorator(never_cache)
    def two_factor_view(self, request: HttpRequest) -> HttpResponse:
        """Give the current code of the enrolled device, or enrol one through a link."""
        if not two_factor.is_staff(request.user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return csrf_protect(self._two_factor_page)(request)

    def _two_factor_page(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and "cancel" in request.POST:
            auth.logout(request)
            return HttpResponseRedirect(reverse("admin:login"))
        context = {
            **self.each_context(request),
            "title": "Two-factor login",
            "next": two_factor.safe_next(request, reverse("admin:index")),
            "required": settings.ADMIN_2FA_REQUIRED,
        }
        if two_factor.confirmed_device(request.user) is None:
            return self._enrolment_step(request, context)
        form = two_factor.CodeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            used = two_factor.verify(request, form.cleaned_data["code"])
            if isinstance(used, StaticDevice):
                left = used.token_set.count()
                messages.warning(
                    request,
                    f"You logged in with a recovery code; {left} left. Lost your phone? Ask a "
                    "superuser to reset your two-factor login.",
                )
            if used:
                return HttpResponseRedirect(context["next"])
            form.add_error("code", WRONG_CODE)
        return TemplateResponse(request, "admin/two_factor.html", {**context, "form": form})

    def _enrolment_step(self, request: HttpRequest, context: dict) -> HttpResponse:
        """Set up a first device: only in a session opened with an enrolment link."""
        context["title"] = "Set up two-factor login"
        try:
            enrolment.session_link(request)
        except enrolment.LinkRefused as refused:
            return TemplateResponse(
                request, "admin/two_factor.html", {**context, "refusal": str(refused)}
            )
        device = two_factor.pending_device(request.user)
        form = two_factor.CodeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                codes = enrolment.confirm(request, device, form.cleaned_data["code"])
            except enrolment.LinkRefused as refused:
                return TemplateResponse(
                    request, "admin/two_factor.html", {**context, "refusal": str(refused)}
                )
            if codes is not None:
                # Shown in this answer only: the codes are stored nowhere a page could reread.
                context.update(title="Save your recovery codes", recovery_codes=codes)
                return TemplateResponse(request, "admin/two_factor.html", context)
            form.add_error("code", WRONG_CODE)
        context.update(form=form, enrolling=True, secret=two_factor.secret_text(device))
        return TemplateResponse(request, "admin/two_factor.html", context)

    @method_decorator(never_cache)  # the image carries the secret: kept in no cache
    def two_factor_qrcode(self, request: HttpRequest) -> HttpResponse:
        """The enrolment QR code: only for a session enrolling through a link (it carries the
        secret)."""
        if not two_factor.is_staff(request.user) or two_factor.confirmed_device(request.user):
            return HttpResponse(status=404)
        try:
            enrolment.session_link(request)
        except enrolment.LinkRefused:
            return HttpResponse(status=404)
        return two_factor.qrcode_svg(two_factor.pending_device(request.user))


# The sections operations staff work in every day, in this order on the home page.
OPERATIONS_SECTIONS = ("subscribers", "messaging", "smsbot")

WRONG_CODE = (
    "That code is not valid. Check the time on your phone, wait for the next code, and try again."
)
