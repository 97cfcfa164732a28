"""The admin site operators log in to: the product's name, and where "View site" leads."""

from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    site_header = "smsbot operations"
    site_title = "smsbot"
    index_title = "Is everything all right today?"
    # The public face of the portal is its opt-in page.
    site_url = "/optin/"
    # The app list sits on the home page; as a sidebar beside every list it would take
    # 300 of a laptop's 1440 px, and the message log needs them for its columns.
    enable_nav_sidebar = False
