from django.urls import path, re_path
from csp.decorators import csp_replace
from csp.constants import SELF, UNSAFE_INLINE
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

# Swagger UI and Redoc (served from our own static files) start with an inline script and inline
# styles: on these two documentation pages only, inline code from our own page is allowed. They
# show the schema, no user data; every other page keeps the nonce-only policy.
docs_csp = csp_replace({"script-src": [SELF, UNSAFE_INLINE], "style-src-elem": [SELF, UNSAFE_INLINE],
                        "worker-src": [SELF, "blob:"]})

from . import views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_csp(SpectacularSwaggerView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
    path("v1/orders/", views.OrderList.as_view(), name="orders"),
    path("v1/orders/<str:number>/", views.OrderDetail.as_view(), name="order"),
    path("v1/orders/<str:number>/status/", views.OrderStatusChange.as_view(), name="order_status"),
    path("v1/orders/<str:number>/shipments/", views.ShipmentCreate.as_view(), name="order_shipments"),
    path("v1/orders/<str:number>/notifications/", views.OrderNotifications.as_view(), name="order_notifications"),
    path("v1/shipments/<int:shipment_id>/checkpoints/", views.ShipmentCheckpoints.as_view(),
         name="shipment_checkpoints"),
    path("v1/products/", views.ProductList.as_view(), name="products"),
    path("v1/products/<int:product_id>/", views.ProductDetail.as_view(), name="product"),
    path("v1/products/<int:product_id>/stock/", views.ProductStock.as_view(), name="product_stock"),
    path("v1/products/<int:product_id>/restock/", views.ProductRestock.as_view(), name="product_restock"),
    # Anything else under /api/v1/ (an id that is not a number, a typo) is a problem-details 404, not HTML.
    re_path(r"^v1/", views.not_found, name="not_found"),
]
