"""Reports: the figures operators read, and where they are drawn.

It owns daily rollups, the aggregate figures, the server-drawn charts, the
admin-home dashboard and the nightly DynamoDB analytics. It reads messages
and consent; it must not send anything or import inbound, outbound
dispatch, providers or the admin.
"""
