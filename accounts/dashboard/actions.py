"""What a customer (logged in, or a guest holding the signed link) may do from the status page.

Callers have already scoped the order (``ref`` comes from a fingerprint filtered by customer,
or by the token's number + email); these functions only run the service and answer.
"""
from django.utils.translation import gettext

from orders.checkout import CheckoutError, checkout_retry_payment
from orders.models import Order, OrderStatus, Payment
from orders.services import TransitionNotAllowed, return_request_create
from seller.services import ActionNotPossible, order_cancel

from .forms import CustomerCancelForm, ReturnForm
from .status_page import StatusRef, _snapshot, respond

CUSTOMER_CANCELLABLE = (OrderStatus.PENDING, OrderStatus.PROCESSING)


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def cancel(request, ref: StatusRef, *, actor, template: str, refetch):
    form = CustomerCancelForm(request.POST)
    if not form.is_valid():
        return respond(request, ref, template=template, refetch=refetch, error=_form_errors(form),
                       open_form="cancel", cancel_form=form)
    order = Order.objects.get(pk=ref.fp["id"])
    if order.status not in CUSTOMER_CANCELLABLE:
        return respond(request, ref, template=template, refetch=refetch,
                       error=gettext("This order can no longer be cancelled online: it is %(status)s. Contact the shop "
                                           "if you need help.") % {"status": order.get_status_display().lower()})
    try:
        order_cancel(order=order, actor=actor, reason=form.reason_text(), cancelled_by="customer")
    except (TransitionNotAllowed, ActionNotPossible) as exc:
        return respond(request, ref, template=template, refetch=refetch, error=str(exc))
    return respond(request, ref, template=template, refetch=refetch,
                   flash=gettext("Your order has been cancelled. If you paid by card, the refund is on its way."))


def request_return(request, ref: StatusRef, *, actor, template: str, refetch):
    meta = _snapshot(ref)["meta"]
    form = ReturnForm(request.POST, returnable=meta["returnable"])
    if not form.is_valid():
        return respond(request, ref, template=template, refetch=refetch, error=_form_errors(form),
                       open_form="return", return_form=form)
    order = Order.objects.get(pk=ref.fp["id"])
    lines = list(order.lines.filter(pk__in=form.line_ids()))
    try:
        return_request = return_request_create(order=order, lines=lines, reason=form.cleaned_data["reason"],
                                               actor=actor)
    except (TransitionNotAllowed, ValueError) as exc:
        return respond(request, ref, template=template, refetch=refetch, error=str(exc),
                       open_form="return", return_form=form)
    return respond(request, ref, template=template, refetch=refetch,
                   flash=gettext("Return %(number)s requested. The shop will reply by email.")
                   % {"number": return_request.number})


def pay(request, ref: StatusRef, *, actor, template: str, refetch):
    """Pay now: the card again (through the gateway) or a switch to cash on delivery."""
    from storefront.forms import RetryPaymentForm

    form = RetryPaymentForm(request.POST, auto_id="pay_%s")
    if not form.is_valid():
        return respond(request, ref, template=template, refetch=refetch, error=_form_errors(form),
                       open_form="pay", pay_form=form)
    order = Order.objects.get(pk=ref.fp["id"])
    method = form.cleaned_data["payment_method"]
    if form.hosted and method == Payment.Method.CARD:  # Stripe Checkout: off to its payment page
        from .pay_now import start

        response, error, _status = start(request, order)
        if response is not None:
            return response
        return respond(request, refetch(), template=template, refetch=refetch, error=error, open_form="pay")
    try:
        result = checkout_retry_payment(orders=[order], payment_method=method,
                                        card_number=form.cleaned_data["card_number"])
    except CheckoutError as exc:
        return respond(request, refetch(), template=template, refetch=refetch, error=str(exc))
    if not result.payment_ok:
        # The attempt is on the timeline now: answer with the fresh page.
        return respond(request, refetch(), template=template, refetch=refetch, open_form="pay",
                       error=f"{result.error}. Nothing was charged and your items are still reserved: "
                             f"try another card or choose cash on delivery.")
    if method == Payment.Method.COD:
        flash = gettext("Cash on delivery chosen: your order is being prepared. Please pay when it arrives.")
    else:
        flash = gettext("Thank you: your payment went through. Your order is being prepared.")
    return respond(request, ref, template=template, refetch=refetch, flash=flash)


def feedback(request, ref: StatusRef, *, actor, template: str, refetch):
    """The feedback form of a delivered order (rating 1–5 and a comment; editable for a while)."""
    from orders.feedback import FeedbackNotAllowed, order_feedback_save

    from .forms import FeedbackForm

    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return respond(request, ref, template=template, refetch=refetch, error=_form_errors(form),
                       open_form="review", feedback_form=form)
    order = Order.objects.get(pk=ref.fp["id"])
    try:
        order_feedback_save(order=order, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"],
                            actor=actor)
    except FeedbackNotAllowed as exc:
        return respond(request, ref, template=template, refetch=refetch, error=str(exc))
    return respond(request, ref, template=template, refetch=refetch,
                   flash=gettext("Thank you for your feedback: the shop can see it now."))


def ask(request, ref: StatusRef, *, user, template: str, refetch):
    """Ask the seller: the customer's question goes on the thread and into the sellers' inbox."""
    from django.conf import settings
    from django.utils.translation import gettext as _
    from django_ratelimit.core import is_ratelimited

    from orders.conversation import MessageRefused, order_question_ask
    from seller.forms import OrderMessageForm

    form = OrderMessageForm(request.POST, prefix="ask")
    if not form.is_valid():
        return respond(request, ref, template=template, refetch=refetch, error=_form_errors(form),
                       open_form="ask", ask_form=form)
    number = ref.fp["number"]
    by_order = is_ratelimited(request, group="order-question", key=lambda group, request: number,
                              rate=settings.ORDER_QUESTION_RATE_PER_ORDER, method="POST", increment=True)
    by_ip = is_ratelimited(request, group="order-question-ip", key="ip", rate=settings.ORDER_QUESTION_RATE_PER_IP,
                           method="POST", increment=True)
    if by_order or by_ip:
        return respond(request, ref, template=template, refetch=refetch, open_form="ask", ask_form=form,
                       error=_("You have sent several questions already. Please wait for the shop's answer, "
                               "or try again in an hour."), status=429)
    order = Order.objects.select_related("store").get(pk=ref.fp["id"])
    try:
        order_question_ask(order=order, body=form.cleaned_data["body"], user=user)
    except MessageRefused as exc:
        return respond(request, ref, template=template, refetch=refetch, error=str(exc), open_form="ask",
                       ask_form=form)
    return respond(request, ref, template=template, refetch=refetch,
                   flash=_("Your question is on its way to %(store)s. Their answer appears here and comes by "
                           "email.") % {"store": order.store.name})
