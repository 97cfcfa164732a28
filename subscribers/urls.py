from django.urls import path

from subscribers import api, email_views, views

app_name = "subscribers"

urlpatterns = [
    path("optin/", views.optin, name="optin"),
    path("optin/thanks/", views.optin_thanks, name="optin_thanks"),
    path("api/optin/", api.optin_api, name="optin_api"),
    path("optin/email/<str:token>/", email_views.confirm, name="email_confirm"),
    path("unsubscribe/<str:token>/", email_views.unsubscribe, name="email_unsubscribe"),
]
