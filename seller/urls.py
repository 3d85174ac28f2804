from django.urls import path

from .views import actions, orders, settings

app_name = "seller"
urlpatterns = [
    path("", orders.order_list, name="orders"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/action/<slug:action>/", actions.order_action, name="order_action"),
    path("orders/<str:number>/returns/<str:return_number>/<slug:to>/", actions.return_action,
         name="return_action"),
    path("branding/", settings.branding, name="branding"),
]
