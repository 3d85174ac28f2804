from django.urls import path, re_path

from . import email_webhooks, push_views, webhooks

app_name = "notifications"
# Providers call these with or without the trailing slash: both are served (a redirect would drop
# the POST body); reverse() gives the slashed form.
urlpatterns = [
    # Web push: the service worker at the root (scope "/") and this browser's subscription.
    path("sw.js", push_views.service_worker, name="service_worker"),
    path("notifications/push/subscribe/", push_views.push_subscribe, name="push_subscribe"),
    path("notifications/push/unsubscribe/", push_views.push_unsubscribe, name="push_unsubscribe"),
    path("notifications/twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("notifications/twilio/status", webhooks.twilio_status),
    path("notifications/twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    path("notifications/twilio/inbound", webhooks.twilio_inbound),
    # The configured email provider's tracking webhook only, e.g. /anymail/postmark/tracking/
    # (basic auth: ANYMAIL_WEBHOOK_SECRET); Mandrill's combined endpoint is /anymail/mandrill/.
    re_path(r"^anymail/(?P<esp>[a-z_]+)/tracking/$", email_webhooks.tracking_webhook, name="email_tracking"),
    re_path(r"^anymail/(?P<esp>[a-z_]+)/tracking$", email_webhooks.tracking_webhook),
    re_path(r"^anymail/(?P<esp>mandrill)/?$", email_webhooks.tracking_webhook),
]
