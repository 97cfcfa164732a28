"""The admin site operators log in to, and the rules every admin page shares.

- The product's name, and "View site" leading to the opt-in page.
- The two-factor step after the password (smsbot.two_factor).
- Every ModelAdmin registered here — the portal's own and those of
  django-celery-beat, auth, django-axes and django-otp alike — is given:
  before → after values in the audit trail for plain adds and edits
  (smsbot.audit.AuditedEditsMixin), a summary entry per import
  (smsbot.audit.AuditedImportsMixin), and the change permission as the
  requirement of any action that declares no permissions=
  (smsbot.admin_base.ActionsNeedPermissionMixin); form fields held to
  smsbot.admin_inputs' bounds (BoundedInputsMixin); list filters that are
  refused with a message, not a 500 (CheckedFiltersMixin); deletions that
  would take audit entries with them refused with the reason
  (ProtectedDeletionsMixin).
"""

from typing import Any

from django.conf import settings
from django.contrib import admin, auth
from django.contrib.auth.views import redirect_to_login
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from import_export.admin import ImportMixin

from smsbot import two_factor
from smsbot.admin_base import (
    ActionsNeedPermissionMixin,
    BoundedInputsMixin,
    CheckedFiltersMixin,
    ProtectedDeletionsMixin,
)
from smsbot.audit import AuditedEditsMixin, AuditedImportsMixin


class PortalAdminSite(admin.AdminSite):
    site_header = "smsbot operations"
    site_title = "smsbot"
    index_title = "Is everything all right today?"
    # The public face of the portal is its opt-in page.
    site_url = "/optin/"
    # The app list sits on the home page; as a sidebar beside every list it would take
    # 300 of a laptop's 1440 px, and the message log needs them for its columns.
    enable_nav_sidebar = False

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
        ]
        if issubclass(admin_class, ImportMixin):
            wanted.append(AuditedImportsMixin)
        mixins = tuple(m for m in wanted if not issubclass(admin_class, m))
        if mixins:
            names = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
            admin_class = type(admin_class.__name__, (*mixins, admin_class), names)
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not two_factor.needs_second_factor(request)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("two-factor/", self.two_factor_view, name="two_factor"),
            path("two-factor/qrcode.svg", self.two_factor_qrcode, name="two_factor_qrcode"),
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
    def two_factor_view(self, request: HttpRequest) -> HttpResponse:
        """Enrol a device, or give the current code of the enrolled one."""
        if not two_factor.is_staff(request.user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return csrf_protect(self._two_factor_page)(request)

    def _two_factor_page(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if request.method == "POST" and "cancel" in request.POST:
            auth.logout(request)
            return HttpResponseRedirect(reverse("admin:login"))
        next_url = two_factor.safe_next(request, reverse("admin:index"))
        device = two_factor.confirmed_device(user)
        enrolling = device is None
        if enrolling:
            device = two_factor.pending_device(user)
        form = two_factor.CodeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            if two_factor.check_code(request, device, form.cleaned_data["code"]):
                return HttpResponseRedirect(next_url)
            form.add_error(
                "code",
                "That code is not valid. Check the time on your phone, wait for the next "
                "code, and try again.",
            )
        context = {
            **self.each_context(request),
            "title": "Set up two-factor login" if enrolling else "Two-factor login",
            "form": form,
            "enrolling": enrolling,
            "secret": two_factor.secret_text(device) if enrolling else "",
            "next": next_url,
            "required": settings.ADMIN_2FA_REQUIRED,
        }
        return TemplateResponse(request, "admin/two_factor.html", context)

    @method_decorator(never_cache)  # the image carries the secret: kept in no cache
    def two_factor_qrcode(self, request: HttpRequest) -> HttpResponse:
        """The enrolment QR code: only for a device not yet confirmed (it carries the secret)."""
        if not two_factor.is_staff(request.user) or two_factor.confirmed_device(request.user):
            return HttpResponse(status=404)
        return two_factor.qrcode_svg(two_factor.pending_device(request.user))
