"""The admin site operators log in to: the product's name, and where "View site" leads."""

from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "smsbot operations"
    site_title = "smsbot"
    index_title = "Operations"
    # The public face of the portal is its opt-in page.
    site_url = "/optin/"
