"""Reports: the figures operators read, and where they are drawn.

It owns daily rollups, the aggregate figures, the server-drawn charts, the
admin-home dashboard, the alerts shown as banners and the nightly DynamoDB
analytics. It reads messages, consent and the outbound state (budget, the
last configuration error, the confirmation cap); it must not send anything or
import inbound, the dispatcher, providers or the admin.
"""
