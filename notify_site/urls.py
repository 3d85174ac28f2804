from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include("accounts.urls")),
    path("seller/", include("seller.urls")),
    path("api/", include("api.urls")),
    path("", include("notifications.urls")),
    path("", include("orders.urls")),
    path("", include("storefront.urls")),
]

if settings.BENCH_VIEWS:  # bench/status_page.sh only: a bare one-query view to compare against
    urlpatterns.insert(0, path("bench/", include("accounts.dashboard.bench")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
