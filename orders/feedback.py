"""Customer feedback on a delivered order: a rating (1–5) and a comment, once per order,
editable for ``OrderFeedback.EDITABLE_DAYS`` days. The review link in the delivered message
opens the form on the status page (``#review``); the seller sees it on the order and in a list.
"""
import datetime

from django.db import transaction
from django.utils import timezone

from .models import Order, OrderEvent, OrderFeedback, OrderStatus
from .services import order_event_add


class FeedbackNotAllowed(ValueError):
    """Feedback that can't be taken (not delivered yet, or past the editing window). Nothing saved."""


def feedback_editable(feedback: OrderFeedback | None, now=None) -> bool:
    if feedback is None:
        return True
    now = now or timezone.now()
    return now <= feedback.created_at + datetime.timedelta(days=OrderFeedback.EDITABLE_DAYS)


@transaction.atomic
def order_feedback_save(*, order: Order, rating: int, comment: str = "", actor=None) -> OrderFeedback:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.COMPLETED:
        raise FeedbackNotAllowed("You can leave feedback once the order has been delivered.")
    if not 1 <= int(rating) <= 5:
        raise FeedbackNotAllowed("Choose a rating from 1 to 5.")
    comment = (comment or "").strip()[:2000]
    feedback = OrderFeedback.objects.filter(order=locked).first()
    if feedback is not None and not feedback_editable(feedback):
        raise FeedbackNotAllowed(f"Feedback can be changed for {OrderFeedback.EDITABLE_DAYS} days after it is "
                                 "given; this order's feedback is final.")
    if feedback is None:
        feedback = OrderFeedback.objects.create(order=locked, rating=rating, comment=comment)
        title = "Feedback given"
    else:
        feedback.rating, feedback.comment = rating, comment
        feedback.save(update_fields=["rating", "comment", "updated_at"])
        title = "Feedback changed"
    # The timeline row also moves the status page's fingerprint, so its cached render is redone.
    order_event_add(order=locked, kind=OrderEvent.Kind.NOTE, actor=actor, note=f"{title}: {rating}/5",
                    data={"feedback": True, "rating": int(rating)})
    return feedback


def store_feedback(*, store):
    """The store's feedback, newest first (seller dashboard)."""
    return (OrderFeedback.objects.filter(order__store=store).select_related("order")
            .order_by("-created_at", "-id"))
