from django.urls import path

from subscribers import api, views

app_name = "subscribers"

urlpatterns = [
    path("optin/", views.optin, name="optin"),
    path("optin/thanks/", views.optin_thanks, name="optin_thanks"),
    path("api/optin/", api.optin_api, name="optin_api"),
]
