"""Admin › Users with two-factor login: who has enrolled, and a superuser's two buttons.

The list shows, and filters on, whether each user's authenticator is confirmed
and how many recovery codes they have left. A user's page says the same and
offers a superuser "Issue enrolment link" (no authenticator yet) or "Reset
two-factor login" (deletes their authenticator and recovery codes, then issues
a link). Each opens a page that asks first, and shows the link once after
(smsbot.enrolment). Only superusers may use either, whatever their permissions.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsbot import enrolment
from smsbot.timezones import shown


class TwoFactorFilter(admin.SimpleListFilter):
    title = "two-factor login"
    parameter_name = "two_factor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Set up"), ("no", "Not set up")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(two_factor_set_up=self.value() == "yes")
        return queryset


ACTIONS = {
    "link": {
        "title": "Issue an enrolment link",
        "explain": "The link lets {user} set up an authenticator app, together with their "
        "password. Any earlier link for {user} that has not been used stops working.",
        "button": "Issue the link",
    },
    "reset": {
        "title": "Reset two-factor login",
        "explain": "This deletes the authenticator app and the recovery codes of {user} "
        "(now: {state}): they cannot log in until they set up a new one with the "
        "enrolment link issued next. Use it when a phone is lost or codes may be known "
        "to someone else.",
        "button": "Reset and issue a link",
    },
}


class PortalUserAdmin(UserAdmin):
    list_display = [*UserAdmin.list_display, "two_factor", "recovery_codes"]
    list_filter = [*UserAdmin.list_filter, TwoFactorFilter]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        codes = (
            StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
            .order_by()
            .values("device__user")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                two_factor_set_up=Exists(confirmed), recovery_codes=Coalesce(Subquery(codes), 0)
            )
        )

    @admin.display(description="two-factor", boolean=True, ordering="two_factor_set_up")
    def two_factor(self, user: User) -> bool:
        return user.two_factor_set_up  # type: ignore[attr-defined]

    @admin.display(description="recovery codes left", ordering="recovery_codes")
    def recovery_codes(self, user: User) -> int | str:
        return user.recovery_codes if user.two_factor_set_up else "—"  # type: ignore[attr-defined]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/enrolment-link/",
                view(self.enrolment_link_view),
                name="auth_user_enrolment_link",
            ),
            path(
                "<path:object_id>/two-factor-reset/",
                view(self.two_factor_reset_view),
                name="auth_user_two_factor_reset",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        user = self.get_object(request, unquote(object_id))
        if user is not None and request.user.is_superuser:
            extra_context = {
                **(extra_context or {}),
                "two_factor_state": enrolment.state(user),
                "two_factor_action": "reset" if self._has_devices(user) else "link",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def enrolment_link_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._two_factor_page(request, object_id, "link")

    def two_factor_reset_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._two_factor_page(request, object_id, "reset")

    @staticmethod
    def _has_devices(user: User) -> bool:
        return enrolment.enrolled(user) or enrolment.recovery_codes_left(user) > 0

    def _two_factor_page(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        """Ask (GET), then do it and show the link once (POST)."""
        if not request.user.is_superuser:
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("No such user.")
        refusal = enrolment.issue_refusal(user, resetting=kind == "reset")
        if request.method == "POST" and refusal:
            messages.error(request, f"Nothing changed: {refusal}")
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        texts = {
            key: text.format(user=user, state=enrolment.state(user))
            for key, text in ACTIONS[kind].items()
        }
        context = {
            **self.admin_site.each_context(request),
            **texts,
            "opts": self.opts,
            "original": user,
            "refusal": refusal,
        }
        if request.method == "POST":
            do = enrolment.reset if kind == "reset" else enrolment.issue
            link, token = do(user, request.user)
            context.update(
                title=f"Enrolment link for {user}",
                link=enrolment.link_url(token),
                expires=shown(link.expires_at),
            )
        return TemplateResponse(request, "admin/auth/user/two_factor.html", context)
