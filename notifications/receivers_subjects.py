"""Receivers for the signals about products and accounts (order signals: receivers.py).

Same shape as the order receivers: one small function per signal, the event key built from the
timeline row the change wrote (``catalog.ProductEvent`` → ``:pe<id>``, ``accounts.AccountEvent`` →
``:ae<id>``), running inside the change's transaction so the outbox rows commit with it.
"""
from django.dispatch import receiver

from accounts import signals as account_signals
from catalog import signals as catalog_signals
from orders import links

from .context import money, when
from .events import Audience
from .outbox import notification_enqueue
from .subjects import AccountSubject, ProductSubject


def _pe(code: str, event) -> str:
    return f"{code}:pe{event.pk}"


def _ae(code: str, event) -> str:
    return f"{code}:ae{event.pk}"


# --- accounts ------------------------------------------------------------------------------------

@receiver(account_signals.password_reset_requested, dispatch_uid="notifications.password_reset")
def on_password_reset_requested(sender, user, event, reset_url, expires, **kwargs):
    subject = AccountSubject(user=user, event=event, change={"reset_url": reset_url, "expires": expires,
                                                             "ip": event.ip_address or ""})
    notification_enqueue(event="account.password_reset", event_key=_ae("account.password_reset", event),
                         subject=subject)


@receiver(account_signals.signup_confirm_requested, dispatch_uid="notifications.signup_confirm")
def on_signup_confirm_requested(sender, user, event, confirm_url, expires, **kwargs):
    subject = AccountSubject(user=user, event=event, change={"confirm_url": confirm_url, "expires": expires})
    notification_enqueue(event="account.signup_confirm", event_key=_ae("account.signup_confirm", event),
                         subject=subject)


@receiver(account_signals.signup_existing_attempted, dispatch_uid="notifications.signup_existing")
def on_signup_existing_attempted(sender, user, event, **kwargs):
    subject = AccountSubject(user=user, event=event, change={"ip": event.ip_address or ""})
    notification_enqueue(event="account.signup_existing", event_key=_ae("account.signup_existing", event),
                         subject=subject)


@receiver(account_signals.phone_verification_requested, dispatch_uid="notifications.phone_verify")
def on_phone_verification_requested(sender, user, event, code, minutes, **kwargs):
    subject = AccountSubject(user=user, event=event, change={"code": code, "minutes": minutes})
    notification_enqueue(event="account.phone_verify", event_key=_ae("account.phone_verify", event),
                         subject=subject)


@receiver(account_signals.suspicious_login, dispatch_uid="notifications.suspicious_login")
def on_suspicious_login(sender, user, event, login, reason, **kwargs):
    subject = AccountSubject(user=user, event=event, change={
        "when": when(login.created_at) + " UTC" if login else when(event.created_at) + " UTC",
        "ip": (login.ip_address if login else event.ip_address) or "unknown",
        "device": (login.device if login else event.device) or "Unknown device", "reason": reason})
    notification_enqueue(event="account.suspicious_login", event_key=_ae("account.suspicious_login", event),
                         subject=subject)


@receiver(account_signals.unusual_order, dispatch_uid="notifications.unusual_order")
def on_unusual_order(sender, user, event, order, reasons, **kwargs):
    subject = AccountSubject(user=user, event=event, change={
        "order_number": order.number, "total": money(order.total, order.currency), "reason": "; ".join(reasons),
        "country": order.shipping_country, "status_url": links.status_url(order)})
    notification_enqueue(event="account.unusual_order", event_key=_ae("account.unusual_order", event),
                         subject=subject)


# --- products ------------------------------------------------------------------------------------

@receiver(catalog_signals.stock_low, dispatch_uid="notifications.stock_low")
def on_stock_low(sender, product, event, figures, **kwargs):
    subject = ProductSubject(product=product, event=event, figures=figures,
                             change={"threshold": product.low_stock_threshold})
    notification_enqueue(event="stock.low", event_key=_pe("stock.low", event), subject=subject)


@receiver(catalog_signals.product_restocked, dispatch_uid="notifications.back_in_stock")
def on_product_restocked(sender, product, event=None, subscriptions=(), new_stock=0, **kwargs):
    if not subscriptions or event is None:
        return
    subject = ProductSubject(product=product, event=event, subscriptions=list(subscriptions),
                             change={"stock": new_stock})
    notification_enqueue(event="product.back_in_stock", event_key=_pe("product.back_in_stock", event),
                         subject=subject)


@receiver(catalog_signals.stock_alert_requested, dispatch_uid="notifications.stock_alert_confirm")
def on_stock_alert_requested(sender, subscription, product, **kwargs):
    from catalog.models import Product

    product = Product.objects.select_related("store").get(pk=product.pk)
    subject = ProductSubject(product=product, subscriptions=[subscription])
    # Once per subscription: asking again does not mail the address again.
    notification_enqueue(event="product.alert_confirm", event_key=f"product.alert_confirm:bis{subscription.pk}",
                         subject=subject)


@receiver(catalog_signals.product_updated, dispatch_uid="notifications.product_updated")
def on_product_updated(sender, product, event, what, note, **kwargs):
    subject = ProductSubject(product=product, event=event, change={"what": what, "note": note})
    # The supplier (one row) in the change's transaction; the past buyers, who may be many, by the
    # chunked fan-out (marketing.fanout), started when the change commits.
    notification_enqueue(event="product.updated", event_key=_pe("product.updated", event), subject=subject,
                         audiences=(Audience.SUPPLIER,))
    from django.conf import settings

    from marketing.fanout import fanout_start
    from marketing.models import FanOut

    if getattr(settings, "NOTIFICATIONS_SUPPRESSED", False):
        return
    fanout_start(source=FanOut.Source.PRODUCT_UPDATE, source_id=event.pk, key=_pe("product.updated", event))


# --- loyalty -------------------------------------------------------------------------------------

def _le(code: str, entry) -> str:
    return f"{code}:le{entry.pk}"


@receiver(account_signals.loyalty_tier_reached, dispatch_uid="notifications.loyalty_tier_reached")
def on_loyalty_tier_reached(sender, user, entry, tier, next_tier, points, **kwargs):
    subject = AccountSubject(user=user, event=entry, change={
        "tier": tier.name, "points": points, "benefits": tier.benefits,
        "next_tier": next_tier.name if next_tier else "", "next_needed": next_tier.threshold - points if next_tier
        else ""})
    notification_enqueue(event="loyalty.tier_reached", event_key=_le("loyalty.tier_reached", entry), subject=subject)


@receiver(account_signals.loyalty_milestone, dispatch_uid="notifications.loyalty_milestone")
def on_loyalty_milestone(sender, user, entry, milestone, tier, points, **kwargs):
    subject = AccountSubject(user=user, event=entry, change={
        "milestone": milestone, "points": points, "tier": tier.name if tier else "no tier yet",
        "benefits": tier.benefits if tier else ""})
    notification_enqueue(event="loyalty.milestone", event_key=_le("loyalty.milestone", entry), subject=subject)
