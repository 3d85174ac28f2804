"""Card orders whose payment failed: how long the stock stays reserved, the reminder, the auto-cancel.

A declined card leaves the order pending with its stock reserved (orders.checkout). The customer
has ``UNPAID_ORDER_CANCEL_HOURS`` (default 24) from placing it to pay again or switch to cash on
delivery; ``UNPAID_ORDER_REMINDER_HOURS`` (default 6) before that deadline they are reminded once,
and at the deadline the order is cancelled by the system with its stock released (beat task
``orders.unpaid_orders_sweep``). Each step writes a timeline row and sends one signal.
"""
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import signals
from .models import Order, OrderEvent, OrderStatus, Payment
from .services import order_event_add

REMINDER_FLAG = "payment_reminder"


def cancel_after() -> datetime.timedelta:
    return datetime.timedelta(hours=float(getattr(settings, "UNPAID_ORDER_CANCEL_HOURS", 24)))


def remind_before() -> datetime.timedelta:
    return datetime.timedelta(hours=float(getattr(settings, "UNPAID_ORDER_REMINDER_HOURS", 6)))


def payment_deadline(order: Order) -> datetime.datetime | None:
    """When an unpaid order is cancelled, or None when it is not waiting for a payment."""
    if order.status != OrderStatus.PENDING or order.placed_at is None:
        return None
    return order.placed_at + cancel_after()


def awaiting_retry(payments) -> bool:
    """A card payment failed and nothing has been paid or is on its way since (prefetched payments)."""
    payments = list(payments)
    return (any(p.status == Payment.Status.FAILED for p in payments)
            and not any(p.status in (Payment.Status.CAPTURED, Payment.Status.PENDING) for p in payments))


def unpaid_orders(now=None):
    """Pending orders with a failed payment and no captured or open one (the auto-cancel candidates)."""
    return (Order.objects.filter(status=OrderStatus.PENDING, payments__status=Payment.Status.FAILED)
            .exclude(payments__status__in=[Payment.Status.CAPTURED, Payment.Status.PENDING])
            .distinct().order_by("placed_at"))


@transaction.atomic
def order_payment_remind(*, order: Order, now=None) -> OrderEvent | None:
    """Remind the customer once that the unpaid order will be cancelled at its deadline."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if not awaiting_retry(locked.payments.all()) or locked.status != OrderStatus.PENDING:
        return None
    if locked.events.filter(kind=OrderEvent.Kind.NOTE, data__has_key=REMINDER_FLAG).exists():
        return None
    deadline = payment_deadline(locked)
    event = order_event_add(order=locked, kind=OrderEvent.Kind.NOTE, actor="system",
                            note=f"Payment reminder sent: the order is cancelled if unpaid by "
                                 f"{timezone.localtime(deadline):%d %b %Y %H:%M %Z}",
                            data={REMINDER_FLAG: True, "pay_by": deadline.isoformat()})
    signals.order_payment_reminder.send(sender=Order, order=locked, event=event, pay_by=deadline)
    return event


def unpaid_order_cancel(*, order: Order) -> Order | None:
    """Cancel an order that was not paid in time; its stock goes back on the shelf."""
    from seller.services import order_cancel

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING or not awaiting_retry(locked.payments.all()):
            return None
        hours = cancel_after().total_seconds() / 3600
        return order_cancel(order=locked, actor="system", cancelled_by="system",
                            reason=f"Payment not received within {hours:g} hours")


def unpaid_orders_sweep(*, now=None) -> dict:
    """Beat: remind the orders near their deadline, cancel the ones past it. Idempotent."""
    now = now or timezone.now()
    reminded = cancelled = 0
    for order in unpaid_orders().filter(placed_at__lte=now - (cancel_after() - remind_before())).iterator():
        if order.placed_at + cancel_after() <= now:
            if unpaid_order_cancel(order=order) is not None:
                cancelled += 1
        elif order_payment_remind(order=order) is not None:
            reminded += 1
    return {"reminded": reminded, "cancelled": cancelled}
