from django.http import HttpResponse


def orders(request):  # replaced by the seller dashboard (issue 4)
    return HttpResponse("coming soon")
