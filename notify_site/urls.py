from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic.base import RedirectView

from seller.views.stats import platform_statistics
from accounts.views import unsubscribe as unsubscribe_view



class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico whatever the page says. The static URL is looked up per
    request: at import time the production manifest may not exist yet (check --deploy, CI)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static_url("favicon.svg")


urlpatterns = [
    path("favicon.ico", FaviconRedirect.as_view()),
    path("", include("ops.urls")),  # /healthz, /readyz, /metrics (issue 16)
    path("admin/statistics/", platform_statistics, name="platform_statistics"),  # staff: every store
    path("admin/", admin.site.urls),
    # RFC 8058 one-click unsubscribe (List-Unsubscribe in every marketing email): signed token, no login.
    path("u/<str:token>/", unsubscribe_view, name="unsubscribe_one_click"),
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
