"""Who may use the seller dashboard: a logged-in user who belongs to a store."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils import timezone


def seller_required(view):
    """Anonymous → login; logged in without a store → 403 page. Sets ``request.store``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.store_id:
            return render(request, "seller/not_a_seller.html", status=403)
        request.store = user.store
        # Times on the dashboard read in the seller's own time zone.
        with timezone.override(user.time_zone):
            return view(request, *args, **kwargs)

    return wrapper
