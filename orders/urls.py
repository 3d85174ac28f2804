from django.urls import path, re_path

from . import views, webhooks

app_name = "orders"
urlpatterns = [
    # With or without the trailing slash (a redirect would drop the POST body).
    re_path(r"^webhooks/carriers/(?P<carrier>[-a-zA-Z0-9_]+)/?$", webhooks.carrier_webhook, name="carrier_webhook"),
    path("track/<slug:carrier>/<str:tracking_number>/", views.carrier_tracking, name="carrier_tracking"),
]
