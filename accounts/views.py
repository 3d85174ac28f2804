from django.http import HttpResponse


def _todo(request, *args, **kwargs):  # replaced by issue 2 / issue 4 work
    return HttpResponse("coming soon")


signup = dashboard = order_detail = _todo
