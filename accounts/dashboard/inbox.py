"""The in-app inbox, shared by the customer and seller dashboards (one inbox per user)."""
from urllib.parse import urlsplit

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from notifications.models import InboxMessage
from notifications.selectors import inbox_for_user, unread_count
from notifications.services import inbox_mark_all_read, inbox_mark_read

PAGE_SIZE = 20


def inbox_page(request, *, template: str, read_url_name: str, read_all_url: str, extra: dict | None = None):
    paginator = Paginator(inbox_for_user(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, template, {
        "page": page, "messages_list": page.object_list, "read_url_name": read_url_name,
        "read_all_url": read_all_url,
        "section": "inbox", **(extra or {}),
    })


def mark_read(request, message_id: int, *, inbox_url: str, read_url_name: str):
    """POST: mark one of the user's messages read. ``open=1`` then follows the message's link."""
    try:
        message = inbox_mark_read(user=request.user, message_id=message_id)
    except InboxMessage.DoesNotExist:
        raise Http404("No such message.") from None
    if request.POST.get("open") and message.url:
        # Stored links are absolute (SITE_URL + path); always open the path on this host, so a
        # message can never send anyone off-site.
        parts = urlsplit(message.url)
        path = "/" + parts.path.lstrip("/") if parts.path else ""
        return redirect((path + (f"?{parts.query}" if parts.query else "")) if path else inbox_url)
    if request.headers.get("HX-Request"):
        return render(request, "partials/inbox_item.html", {
            "m": message, "read_url_name": read_url_name, "oob_bell": True, "inbox_unread": unread_count(request.user)})
    return redirect(inbox_url)


def mark_all_read(request, *, inbox_url: str):
    inbox_mark_all_read(user=request.user)
    return redirect(inbox_url)
