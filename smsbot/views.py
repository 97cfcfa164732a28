from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from smsbot.health import run_checks


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 in the portal's dress: inside the admin's frame for staff, plain for others."""
    staff = request.user.is_active and request.user.is_staff
    context = admin.site.each_context(request) if staff else {}
    context.update(
        title="Not allowed", base="admin/base_site.html" if staff else "subscribers/base.html"
    )
    return TemplateResponse(request, "403.html", context, status=403).render()
