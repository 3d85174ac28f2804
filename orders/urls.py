from django.urls import path

from . import views, webhooks, webhooks_stripe

app_name = "orders"
urlpatterns = [
    # With or without the trailing slash (a redirect would drop the POST body).
    path("webhooks/carriers/<slug:carrier>/", webhooks.carrier_webhook, name="carrier_webhook"),
    path("webhooks/carriers/<slug:carrier>", webhooks.carrier_webhook),
    path("webhooks/stripe/", webhooks_stripe.stripe_webhook, name="stripe_webhook"),
    path("track/<slug:carrier>/<str:tracking_number>/", views.carrier_tracking, name="carrier_tracking"),
]
