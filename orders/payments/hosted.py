"""Paying on the gateway's hosted page (Stripe Checkout): open a payment page for one order.

The order is already recorded (pending, with a pending card payment); ``hosted_payment_start``
creates a Checkout Session for it and answers the URL to send the customer to. Nothing here
changes the order's state: only Stripe's signed webhooks do (orders.payments.stripe_events), so a
customer coming back to the success URL is told "being confirmed", never "paid".

"Pay now" (the status page, the pay page linked from the payment messages) calls it again for an
order that is still unpaid: a pending payment still waiting on a payment page keeps its row and
gets a fresh session (an older session paid late is still found, by the payment id in its
metadata); after a failed payment a new payment row is opened, so the failure stays in the history.
The network call never runs inside a transaction.
"""
import logging

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.links import pay_path, status_path
from orders.models import Order, OrderStatus, Payment
from orders.services import payment_set_status

from . import get_gateway

logger = logging.getLogger("orders.payments")
CHECKOUT_SESSION_PREFIX = "cs_"


class PayNowRefused(Exception):
    """The order cannot be paid now (nothing left to pay) or the payment page could not be opened."""


def hosted_gateway():
    """The configured gateway if its customers pay on a hosted page, else None."""
    gateway = get_gateway()
    return gateway if getattr(gateway, "hosted", False) else None


def card_is_hosted() -> bool:
    return hosted_gateway() is not None


def waiting_on_page(payment: Payment) -> bool:
    """A pending card payment whose money comes through a hosted payment page (none opened yet, or open)."""
    return (payment.method == Payment.Method.CARD and payment.status == Payment.Status.PENDING
            and (not payment.reference or payment.reference.startswith(CHECKOUT_SESSION_PREFIX)))


def can_pay_now(order: Order, payments) -> bool:
    """Pending, nothing captured, and either no payment on its way or one waiting on a payment page."""
    if order.status != OrderStatus.PENDING:
        return False
    if any(p.status == Payment.Status.CAPTURED for p in payments):
        return False
    return all(p.status != Payment.Status.PENDING or waiting_on_page(p) for p in payments)


def hosted_payment_start(*, order: Order, now=None) -> str:
    """Open a Checkout Session for what ``order`` still owes; answer its URL. Raises PayNowRefused."""
    gateway = hosted_gateway()
    if gateway is None:
        raise PayNowRefused(_("Card payments are taken on this page, not on a payment page."))
    with transaction.atomic():
        locked = Order.objects.select_for_update().select_related("store").get(pk=order.pk)
        payments = list(locked.payments.all())
        if not can_pay_now(locked, payments):
            raise PayNowRefused(_("This order has nothing left to pay."))
        payment = next((p for p in payments if waiting_on_page(p)), None)
        if payment is None:
            payment = Payment.objects.create(order=locked, method=Payment.Method.CARD, amount=locked.total)
    fresh_row = not payment.reference
    now = now or timezone.now()
    minutes = min(max(settings.STRIPE_CHECKOUT_EXPIRES_MINUTES, 30), 1440)
    try:
        session = gateway.checkout_session_create(
            order=locked, payment=payment,
            success_url=settings.SITE_URL + status_path(locked) + "?checkout={CHECKOUT_SESSION_ID}",
            cancel_url=settings.SITE_URL + pay_path(locked),
            expires_at=int(now.timestamp()) + minutes * 60)
    except stripe.StripeError as exc:
        logger.error("Stripe refused a Checkout Session for %s: %s", locked.number, exc)
        if fresh_row:  # nothing can pay this row: fail it, so the order follows the unpaid-order path
            with transaction.atomic():
                payment.refresh_from_db()
                if payment.status == Payment.Status.PENDING and not payment.reference:
                    payment_set_status(payment=payment, to=Payment.Status.FAILED, actor="payment gateway",
                                       reason="The card payment service is unavailable")
        raise PayNowRefused(_("The payment page could not be opened. Please try again in a moment.")) from exc
    with transaction.atomic():
        updated = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            reference=session.id, updated_at=now)
    if not updated:  # paid (or failed) while the page was being opened
        raise PayNowRefused(_("This order has nothing left to pay."))
    logger.info("Checkout Session %s opened for %s (payment %s)", session.id, locked.number, payment.pk)
    return session.url
