from django.urls import include, path

from . import webhooks

app_name = "notifications"
urlpatterns = [
    path("notifications/twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("notifications/twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    # anymail's ESP tracking webhooks, e.g. /anymail/postmark/tracking/ (basic auth: ANYMAIL_WEBHOOK_SECRET)
    path("anymail/", include("anymail.urls")),
]
