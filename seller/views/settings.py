"""The seller's notification settings, branding and per-event customer messages."""
from django.contrib import messages
from django.shortcuts import redirect, render

from ..access import seller_required
from ..forms import BrandingForm


@seller_required
def branding(request):
    store = request.store
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES, instance=store)
        if form.is_valid():
            form.save()
            messages.success(request, "Branding saved. Your next customer emails use it.")
            return redirect("seller:branding")
        status = 422
    else:
        form = BrandingForm(instance=store)
        status = 200
    return render(request, "seller/branding.html", {"form": form, "section": "branding", "store": store},
                  status=status)
