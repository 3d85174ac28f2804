from django.http import HttpResponse


def _todo(request, *args, **kwargs):  # replaced by the storefront work (issue 2)
    return HttpResponse("coming soon")


order_status_token = product_list = cart = track = track_shipment = product_detail = _todo
