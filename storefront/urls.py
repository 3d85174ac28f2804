from django.urls import path

from accounts import delivery_views

from . import views, views_alerts, views_language, views_tracking

app_name = "storefront"
urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("cart/", views.cart, name="cart"),
    path("cart/code/", views.cart_promo, name="cart_promo"),
    path("cart/add/<int:product_id>/", views.cart_add, name="cart_add"),
    path("cart/update/<int:product_id>/", views.cart_update, name="cart_update"),
    path("cart/remove/<int:product_id>/", views.cart_remove, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/placed/<uuid:checkout_id>/", views.checkout_placed, name="checkout_placed"),
    path("checkout/placed/<uuid:checkout_id>/pay/", views.checkout_pay, name="checkout_pay"),
    path("language/", views_language.set_language, name="set_language"),
    path("track/", views_tracking.track, name="track"),
    path("o/<str:token>/", views_tracking.order_status_token, name="order_status_token"),
    path("o/<str:token>/pay/", views_tracking.order_pay_token, name="order_pay_token"),
    path("o/<str:token>/delivery/", delivery_views.guest_delivery_problems, name="delivery_problems"),
    path("p/<slug:store_slug>/<slug:product_slug>/", views.product_detail, name="product_detail"),
    path("p/<slug:store_slug>/<slug:product_slug>/notify/", views.stock_alert, name="stock_alert"),
    path("alerts/<str:token>/confirm/", views_alerts.stock_alert_confirm, name="stock_alert_confirm"),
    path("alerts/<str:token>/stop/", views_alerts.stock_alert_stop, name="stock_alert_stop"),
]
