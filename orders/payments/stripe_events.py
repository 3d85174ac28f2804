"""What a verified Stripe event does to our payments and orders (``POST /webhooks/stripe/``).

Each event is applied once (StripeEvent is unique on Stripe's event id) and only ever moves a
payment forward, so Stripe's at-least-once, any-order delivery is safe: a late
``payment_intent.processing`` or ``payment_failed`` after ``succeeded`` changes nothing, and a
``charge.refunded`` older than one already applied (its cumulative ``amount_refunded`` is not
larger) changes nothing either.

- ``payment_intent.succeeded``: payment captured, a pending order moves to processing (messages).
- ``payment_intent.payment_failed``: payment failed with Stripe's reason (the failure notice says
  how to pay again).
- ``charge.refunded``: full -> payment refunded and the order refunded; partial -> a timeline row;
  both tell the customer the amount.
- Stripe Checkout (orders.payments.hosted): ``checkout.session.completed`` with payment_status
  ``paid`` and ``checkout.session.async_payment_succeeded`` capture like ``payment_intent.succeeded``
  (the payment's reference becomes the PaymentIntent, for refunds); ``async_payment_failed`` fails
  it; ``checkout.session.expired`` fails it ("the payment page expired") only if that session is
  still the payment's current one. A session is found by its id (the payment's reference) or by the
  payment id in its metadata (a session superseded by a newer "Pay now" that was paid anyway);
  a PaymentIntent created by Checkout is found the same way, so whichever event comes first
  captures and the other changes nothing.
"""
import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Max

from orders import signals
from orders.models import OrderEvent, OrderStatus, Payment, StripeEvent
from orders.services import order_event_add, order_transition, payment_set_status

from .stripe import from_minor_units

logger = logging.getLogger("orders.payments")
ACTOR = "Stripe"
O = StripeEvent.Outcome


class StripeEventMalformed(ValueError):
    """A signed body that is not a Stripe event we can read."""


def _obj(event: dict) -> dict:
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise StripeEventMalformed("Not a Stripe event: it needs an id and a type.")
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise StripeEventMalformed("The event has no data.object.")
    return obj


def _intent_id(event_type: str, obj: dict) -> str:
    if obj.get("object") in ("payment_intent", "checkout.session"):
        value = obj.get("id")
    else:  # a charge (or refund) names its intent
        value = obj.get("payment_intent")
    if isinstance(value, dict):  # expanded
        value = value.get("id")
    return value if isinstance(value, str) else ""


def stripe_event_ingest(*, event: dict) -> tuple[StripeEvent, bool]:
    """Apply one verified Stripe event; returns (its log row, whether it was a repeat)."""
    obj = _obj(event)
    event_type = event["type"]
    existing = StripeEvent.objects.filter(event_id=event["id"]).first()
    if existing is not None:
        return existing, True
    created = event.get("created")
    created_at = (datetime.fromtimestamp(created, tz=UTC)
                  if isinstance(created, int) and not isinstance(created, bool) and 0 < created < 2**33 else None)
    intent_id = _intent_id(event_type, obj)
    try:
        with transaction.atomic():
            log = StripeEvent.objects.create(event_id=event["id"][:255], event_type=event_type[:64],
                                             payment_intent=intent_id[:255], outcome=O.IGNORED,
                                             created=created_at, payload=event)
            _apply(log, event_type, obj, intent_id)
            log.save()
    except IntegrityError:  # the same event delivered twice at once: the other delivery applied it
        return StripeEvent.objects.get(event_id=event["id"]), True
    level = logging.WARNING if log.outcome == O.UNKNOWN_INTENT else logging.INFO
    logger.log(level, "Stripe %s %s: %s %s", event_type, event["id"], log.outcome, log.detail)
    return log, False


HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
           "payment_intent.canceled", "charge.refunded", "checkout.session.completed",
           "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
           "checkout.session.expired"}


def _find_payment(intent_id: str, obj: dict) -> Payment | None:
    payments = Payment.objects.select_for_update().select_related("order")
    payment = payments.filter(reference=intent_id).first() if intent_id else None
    if payment is None and obj.get("object") in ("payment_intent", "checkout.session"):
        # Opened through Stripe Checkout: the session (and its PaymentIntent) carry our payment id.
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        payment_id, number = str(metadata.get("payment_id") or ""), metadata.get("order_number")
        if payment_id.isdigit() and isinstance(number, str):
            payment = payments.filter(pk=int(payment_id), order__number=number, method=Payment.Method.CARD).first()
    return payment


def _apply(log: StripeEvent, event_type: str, obj: dict, intent_id: str) -> None:
    if event_type not in HANDLED:
        log.detail = "Event type not used here"
        return
    payment = _find_payment(intent_id, obj)
    if payment is None:
        log.outcome, log.detail = O.UNKNOWN_INTENT, f"No payment with reference {intent_id or '(none)'}"
        return
    log.payment = payment
    handler = {
        "payment_intent.succeeded": _succeeded,
        "payment_intent.payment_failed": _failed,
        "payment_intent.canceled": _failed,
        "payment_intent.processing": _processing,
        "charge.refunded": _refunded,
        "checkout.session.completed": _session_completed,
        "checkout.session.async_payment_succeeded": _session_completed,
        "checkout.session.async_payment_failed": _session_failed,
        "checkout.session.expired": _session_expired,
    }[event_type]
    handler(log, payment, obj)


def _session_intent(obj: dict) -> str:
    value = obj.get("payment_intent")
    if isinstance(value, dict):  # expanded
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _session_completed(log, payment, obj):
    if obj.get("payment_status") != "paid":  # a delayed method (bank debit): async_payment_* follows
        log.outcome = O.UNCHANGED
        log.detail = f"Checkout completed, payment {obj.get('payment_status') or 'unknown'}: waiting"
        return
    # The PaymentIntent becomes the payment's reference (refunds and charge.refunded go by it).
    _succeeded(log, payment, {**obj, "id": _session_intent(obj) or obj["id"]})


def _session_failed(log, payment, obj):
    _failed(log, payment, {"last_payment_error": {"message": "The payment failed"}})


def _session_expired(log, payment, obj):
    if payment.status != Payment.Status.PENDING or payment.reference != obj.get("id"):
        log.outcome = O.UNCHANGED
        log.detail = (f"Payment already {payment.status}" if payment.status != Payment.Status.PENDING
                      else "An older payment page expired; a newer one is open")
        return
    _failed(log, payment, {"last_payment_error": {"message": "The payment page expired before payment"}})


def _succeeded(log, payment, obj):
    if payment.status == Payment.Status.FAILED:
        # Money for an attempt we had already marked failed: a failed attempt stays failed, the
        # money is a payment row of its own (once: a second event for it finds that row).
        payment = (Payment.objects.select_for_update().filter(order_id=payment.order_id, reference=obj["id"])
                   .exclude(pk=payment.pk).first()
                   or Payment.objects.create(order=payment.order, method=payment.method, amount=payment.amount,
                                             reference=obj["id"]))
        log.payment = payment
    if payment.status != Payment.Status.PENDING:
        log.outcome, log.detail = O.UNCHANGED, f"Payment already {payment.status}"
        return
    payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor=ACTOR, reference=obj["id"])
    order = payment.order
    order.refresh_from_db(fields=["status"])
    if order.status == OrderStatus.PENDING:
        order_transition(order=order, to=OrderStatus.PROCESSING, actor=ACTOR, note="Payment confirmed by Stripe")
        log.detail = "Payment captured; order processing"
    else:
        log.detail = f"Payment captured; order stays {order.status}"
    log.outcome = O.PROCESSED


def _failed(log, payment, obj):
    if payment.status != Payment.Status.PENDING:
        log.outcome, log.detail = O.UNCHANGED, f"Payment already {payment.status}"
        return
    if obj.get("object") == "payment_intent" and payment.reference.startswith("cs_"):
        # A card declined on Stripe Checkout's page: the customer is still there and can try another
        # card; the session's own events (completed / expired) decide.
        log.outcome, log.detail = O.UNCHANGED, "Declined on the Checkout page; the customer can try again there"
        return
    error = obj.get("last_payment_error") or {}
    reason = (error.get("message") if isinstance(error, dict) else "") or (
        "The payment was cancelled" if obj.get("status") == "canceled" else "The payment failed")
    payment_set_status(payment=payment, to=Payment.Status.FAILED, actor=ACTOR, reason=str(reason))
    log.outcome, log.detail = O.PROCESSED, f"Payment failed: {reason}"[:300]


def _processing(log, payment, obj):
    log.outcome = O.UNCHANGED
    log.detail = "Still processing" if payment.status == Payment.Status.PENDING else f"Payment already {payment.status}"


def _refunded(log, payment, obj):
    currency = (obj.get("currency") or payment.order.currency).upper()
    try:
        cumulative, charged = int(obj.get("amount_refunded") or 0), int(obj.get("amount") or 0)
    except (TypeError, ValueError):
        raise StripeEventMalformed("charge.refunded needs integer amount and amount_refunded.") from None
    log.amount_refunded = cumulative
    before = StripeEvent.objects.filter(payment=payment, amount_refunded__isnull=False).exclude(pk=log.pk) \
        .aggregate(m=Max("amount_refunded"))["m"] or 0
    if payment.status != Payment.Status.CAPTURED or cumulative <= before:
        log.outcome, log.detail = O.UNCHANGED, f"Refund already recorded (payment {payment.status})"
        return
    amount = from_minor_units(cumulative - before, currency)
    full = bool(obj.get("refunded")) or (charged and cumulative >= charged)
    order = payment.order
    order.refresh_from_db(fields=["status"])
    log.outcome = O.PROCESSED
    if full:
        payment_set_status(payment=payment, to=Payment.Status.REFUNDED, actor=ACTOR,
                           reason=f"Refunded through Stripe ({amount} {currency})")
        if order.can_transition_to(OrderStatus.REFUNDED):
            order_transition(order=order, to=OrderStatus.REFUNDED, actor=ACTOR,
                             note="Refunded in full through Stripe")
            log.detail = "Full refund; order refunded"
            return
        log.detail = f"Full refund; order stays {order.status}"
    else:
        log.detail = f"Partial refund of {amount} {currency}"
    event = order_event_add(order=order, kind=OrderEvent.Kind.PAYMENT, actor=ACTOR,
                            note=f"{'Refund' if full else 'Partial refund'} of {amount} {currency} through Stripe",
                            data={"payment_id": payment.pk, "amount": str(amount), "full": bool(full),
                                  "charge": obj.get("id", "")})
    signals.payment_refunded.send(sender=Payment, payment=payment, order=order, amount=amount, full=bool(full),
                                  event=event)
