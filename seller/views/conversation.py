"""The seller's side of the conversation about an order: answer a question or write on their own."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from orders.conversation import MessageRefused, order_seller_message_send

from ..access import seller_required
from ..forms import OrderMessageForm
from .orders import get_store_order, render_detail


@require_POST
@seller_required
def order_message(request, number):
    order = get_store_order(request, number)  # another store's order is a 404
    form = OrderMessageForm(request.POST, prefix="msg")
    if not form.is_valid():
        return render_detail(request, order, status=422, forms={"message": form}, open_form="message",
                             action_error=" ".join(str(e) for errors in form.errors.values() for e in errors))
    if is_ratelimited(request, group="seller-message", key="user", rate=settings.SELLER_MESSAGE_RATE,
                      method="POST", increment=True):
        return render_detail(request, order, status=429, forms={"message": form}, open_form="message",
                             action_error=_("Too many messages in a short time. Please wait a few minutes."))
    try:
        order_seller_message_send(order=order, body=form.cleaned_data["body"], seller=request.user)
    except MessageRefused as exc:
        return render_detail(request, order, status=422, forms={"message": form}, open_form="message",
                             action_error=str(exc))
    messages.success(request, _("Message sent to the customer."))
    return redirect("seller:order_detail", order.number)
