from django.urls import path

from . import views

app_name = "storefront"
urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("cart/", views.cart, name="cart"),
    path("track/", views.track, name="track"),
    path("o/<str:token>/", views.order_status_token, name="order_status_token"),
    path("track/<str:carrier>/<str:tracking_number>/", views.track_shipment, name="track_shipment"),
    path("p/<slug:store_slug>/<slug:product_slug>/", views.product_detail, name="product_detail"),
]
