"""Benchmark-only URLs (mounted at /bench/ only when settings.BENCH_VIEWS is on; see bench/status_page.sh).

``order_pk`` is the baseline the status page is measured against: the same Django stack and
middleware, one primary-key lookup, a tiny response.
"""
from django.http import Http404, HttpResponse
from django.urls import path

from orders.models import Order


def order_pk(request, pk):
    number = Order.objects.filter(pk=pk).values_list("number", flat=True).first()
    if number is None:
        raise Http404
    return HttpResponse(number, content_type="text/plain")


urlpatterns = [path("order/<int:pk>/", order_pk, name="bench_order_pk")]
