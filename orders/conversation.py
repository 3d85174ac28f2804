"""Talking about an order (issue 15 item 5): the customer's questions and the seller's messages.

A customer (logged in, or holding the order's signed link) asks from the status page; the store's
sellers get the ``order.customer_question`` alert (a seller alert, toggled per channel like the
others). A seller answers, or writes on their own, from the order page; the customer gets
``order.seller_message`` on their channels. Both sides see the same thread.

Plain text only: no attachments, no HTML (shown escaped everywhere), at most
OrderMessage.MAX_LENGTH characters. The outbox rows are written in the message's transaction
(notifications.receivers, on ``order_message_posted``). A new message touches the order's
``updated_at``, which moves the status page's fingerprint, so its cached render is never stale.
Callers check who may post (the views); rate limits are the views' too.
"""
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import signals
from .models import Order, OrderMessage

MIN_LENGTH = 2
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")


class MessageRefused(ValueError):
    """The text cannot be posted (empty, too long)."""


def clean_message(body: str) -> str:
    text = _CONTROL.sub("", (body or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    text = _BLANK_LINES.sub("\n\n", text)
    if len(text) < MIN_LENGTH:
        raise MessageRefused(_("Write your message first."))
    if len(text) > OrderMessage.MAX_LENGTH:
        raise MessageRefused(_("Keep it under %(max)d characters.") % {"max": OrderMessage.MAX_LENGTH})
    return text


def _post(*, order: Order, kind: str, user, name: str, body: str) -> OrderMessage:
    text = clean_message(body)
    with transaction.atomic():
        message = OrderMessage.objects.create(order=order, author_kind=kind, author=user, author_name=name[:120],
                                              body=text)
        Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
        signals.order_message_posted.send(sender=OrderMessage, message=message, order=order)
    return message


def order_question_ask(*, order: Order, body: str, user=None) -> OrderMessage:
    """The customer's question (``user`` None for a guest through the signed link)."""
    name = (user.get_full_name() if user is not None else "") or order.shipping_name or order.email
    return _post(order=order, kind=OrderMessage.Author.CUSTOMER, user=user, name=name, body=body)


def order_seller_message_send(*, order: Order, body: str, seller) -> OrderMessage:
    """A seller of the order's store answers or writes on their own (the caller checked the store)."""
    if seller.store_id != order.store_id:
        raise PermissionError("A seller writes only about their own store's orders.")
    first = seller.first_name or seller.get_username()
    return _post(order=order, kind=OrderMessage.Author.SELLER, user=seller, name=f"{first} · {order.store.name}",
                 body=body)


def order_thread(order: Order) -> list[OrderMessage]:
    """The conversation, oldest first (one query)."""
    return list(OrderMessage.objects.filter(order_id=order.pk).order_by("created_at", "id"))
