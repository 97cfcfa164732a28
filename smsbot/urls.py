from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from smsbot import views

lazy_static = lazy(static, str)

handler403 = views.permission_denied

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    # Browsers ask for /favicon.ico whatever the page says. Lazy: the hashed name
    # exists only once collectstatic has run, which comes after migrate.
    path("favicon.ico", RedirectView.as_view(url=lazy_static("smsbot/favicon.svg"))),
    path("", include("subscribers.urls")),
    path("", include("messaging.urls")),
]
