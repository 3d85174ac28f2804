"""The seller's inbox: the same per-user inbox as the customer's, inside the seller dashboard."""
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.dashboard import inbox as inbox_views

from ..access import seller_required


@require_GET
@seller_required
def inbox(request):
    return inbox_views.inbox_page(request, template="seller/inbox.html", read_url_name="seller:inbox_read",
                                  read_all_url=reverse("seller:inbox_read_all"))


@require_POST
@seller_required
def inbox_read(request, message_id):
    return inbox_views.mark_read(request, message_id, inbox_url=reverse("seller:inbox"),
                                 read_url_name="seller:inbox_read")


@require_POST
@seller_required
def inbox_read_all(request):
    return inbox_views.mark_all_read(request, inbox_url=reverse("seller:inbox"))
