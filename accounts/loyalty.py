"""Loyalty: points earned when an order completes, reversed when it is refunded, kept in a ledger
(``LoyaltyEntry``); tiers configured in the admin (``LoyaltyTier``). Reaching a tier or a
milestone total sends ``loyalty.tier_reached`` / ``loyalty.milestone`` (category account: on by
default, the customer may switch it off) through the outbox, keyed by the ledger entry.

Settings: LOYALTY_POINTS_PER_UNIT (points per whole currency unit of the order total, default 1),
LOYALTY_MILESTONES (point totals worth a message, default 500, 1000, 2500, 5000).
"""
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import signals
from .models import LoyaltyAccount, LoyaltyEntry, LoyaltyTier


def points_per_unit() -> Decimal:
    return Decimal(str(getattr(settings, "LOYALTY_POINTS_PER_UNIT", 1)))


def milestones() -> list[int]:
    return sorted(int(m) for m in getattr(settings, "LOYALTY_MILESTONES", [500, 1000, 2500, 5000]))


def points_for(amount) -> int:
    return int((Decimal(amount or 0) * points_per_unit()).to_integral_value(rounding=ROUND_FLOOR))


def tier_for(points: int, tiers=None) -> LoyaltyTier | None:
    tiers = tiers if tiers is not None else list(LoyaltyTier.objects.order_by("threshold"))
    reached = [t for t in tiers if t.threshold <= points]
    return reached[-1] if reached else None


def _apply(*, user, kind: str, points: int, order=None, reference: str, note: str = "") -> LoyaltyEntry | None:
    """One ledger entry and the balance it leaves, once per (kind, reference); then tier and
    milestone messages for an increase."""
    account, _ = LoyaltyAccount.objects.get_or_create(user=user)
    account = LoyaltyAccount.objects.select_for_update().get(pk=account.pk)
    before = account.points
    after = max(0, before + points)
    try:
        with transaction.atomic():
            entry = LoyaltyEntry.objects.create(account=account, kind=kind, points=after - before, balance=after,
                                                order=order, reference=reference[:60], note=note[:200])
    except IntegrityError:
        return None  # already recorded for this order: completing twice earns once
    tiers = list(LoyaltyTier.objects.order_by("threshold"))
    old_tier = account.tier
    new_tier = tier_for(after, tiers)
    LoyaltyAccount.objects.filter(pk=account.pk).update(points=after, tier=new_tier, updated_at=timezone.now())
    account.points, account.tier = after, new_tier
    if after > before:
        if new_tier is not None and (old_tier is None or new_tier.threshold > old_tier.threshold):
            following = next((t for t in tiers if t.threshold > new_tier.threshold), None)
            signals.loyalty_tier_reached.send(sender=LoyaltyEntry, user=user, entry=entry, tier=new_tier,
                                              next_tier=following, points=after)
        crossed = [m for m in milestones() if before < m <= after]
        if crossed:
            signals.loyalty_milestone.send(sender=LoyaltyEntry, user=user, entry=entry, milestone=crossed[-1],
                                           tier=new_tier, points=after)
    return entry


@transaction.atomic
def loyalty_award_order(*, order) -> LoyaltyEntry | None:
    """The order completed: its customer earns points on the total paid (guests have no account)."""
    if not order.customer_id:
        return None
    points = points_for(order.total)
    if points <= 0:
        return None
    return _apply(user=order.customer, kind=LoyaltyEntry.Kind.EARNED, points=points, order=order,
                  reference=order.number, note=f"Order {order.number} completed")


@transaction.atomic
def loyalty_reverse(*, order, amount=None, reference: str = "", note: str = "") -> LoyaltyEntry | None:
    """A refund takes back what the refunded amount earned (the whole order by default), never
    more than the order earned and has not already been reversed."""
    if not order.customer_id:
        return None
    earned = sum(LoyaltyEntry.objects.filter(order=order, kind=LoyaltyEntry.Kind.EARNED)
                 .values_list("points", flat=True))
    reversed_ = -sum(LoyaltyEntry.objects.filter(order=order, kind=LoyaltyEntry.Kind.REVERSED)
                     .values_list("points", flat=True))
    left = earned - reversed_
    if left <= 0:
        return None
    points = min(left, points_for(order.total if amount is None else amount))
    if points <= 0:
        return None
    return _apply(user=order.customer, kind=LoyaltyEntry.Kind.REVERSED, points=-points, order=order,
                  reference=reference or order.number, note=note or f"Order {order.number} refunded")


def loyalty_summary(*, user) -> dict:
    """The customer's loyalty page: points, tier and its benefits, what the next tier needs, the
    tiers, and the ledger (newest first). Three queries."""
    account, _ = LoyaltyAccount.objects.select_related("tier").get_or_create(user=user)
    tiers = list(LoyaltyTier.objects.order_by("threshold"))
    following = next((t for t in tiers if t.threshold > account.points), None)
    return {
        "account": account, "tier": account.tier, "tiers": tiers, "next_tier": following,
        "next_needed": following.threshold - account.points if following else 0,
        "progress": min(100, int(account.points * 100 / following.threshold)) if following and following.threshold
        else 100,
        "entries": list(LoyaltyEntry.objects.filter(account=account).order_by("-created_at", "-id")[:100]),
        "rate": points_per_unit(),
    }
