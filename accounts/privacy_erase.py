"""Erasing a customer (called by accounts.privacy.account_delete inside its transaction).

Kept: the orders (accounting), with name, address, email, phone and note replaced; payments,
lines, totals and the timeline's statuses; each notification row with its status, channel and
legal basis; consent records as "given / withdrawn, when, where" without the email or IP.
Erased: message subjects, bodies, contexts and the customer's addresses on them (seller copies
of the orders lose their contexts and bodies too: they carried the ship-to; the sellers' in-app
copies keep their text with the customer's details replaced), delivery errors,
carrier payloads of the orders' parcels, free text the customer wrote (return reasons).
Deleted: login history, inbox, preferences, quiet hours, loyalty, back-in-stock alerts,
suppression entries for the customer's addresses, data export archives.
"""
from django.db.models import Q
from django.utils import timezone


def personal_values(user, orders) -> set[str]:
    """The strings that identify the customer, to scrub from free text and payloads."""
    values = {user.username, user.email, user.first_name, user.last_name, user.get_full_name(), str(user.phone or "")}
    for order in orders:
        values |= {order.email, order.phone, order.shipping_name, order.shipping_line1, order.shipping_line2,
                   order.shipping_postcode, order.shipping_city}
    # Short values (a first name like "Al") would scrub unrelated words: only distinctive ones.
    return {v.strip() for v in values if v and len(v.strip()) >= 3}


def scrub(value, values: set[str]):
    """``value`` (text, or JSON of dicts and lists) with every personal value replaced."""
    if isinstance(value, str):
        lowered = value.lower()
        for personal in sorted(values, key=len, reverse=True):
            start = lowered.find(personal.lower())
            while start != -1:
                value = value[:start] + "[deleted]" + value[start + len(personal):]
                lowered = value.lower()
                start = lowered.find(personal.lower(), start + len("[deleted]"))
        return value
    if isinstance(value, dict):
        return {k: scrub(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, values) for v in value]
    return value


def _erase_orders(orders, values):
    from orders.models import CarrierWebhookLog, Order, OrderEvent, ReturnRequest, Shipment, TrackingEvent

    ids = [o.pk for o in orders]
    Order.objects.filter(pk__in=ids).update(
        shipping_name="Deleted customer", shipping_line1="", shipping_line2="", shipping_city="",
        shipping_postcode="", email="", phone="", sms_opt_in=False, whatsapp_opt_in=False, customer_note="",
        updated_at=timezone.now())  # moves the pages' fingerprints: no cached copy shows the old name
    for event in OrderEvent.objects.filter(order_id__in=ids):
        note, data, label = scrub(event.note, values), scrub(event.data, values), scrub(event.actor_label, values)
        if (note, data, label) != (event.note, event.data, event.actor_label):
            OrderEvent.objects.filter(pk=event.pk).update(note=note, data=data, actor_label=label)
    ReturnRequest.objects.filter(order_id__in=ids).update(reason="Erased with the customer's account")
    shipments = list(Shipment.objects.filter(order_id__in=ids).values_list("pk", "tracking_number"))
    TrackingEvent.objects.filter(shipment_id__in=[pk for pk, _ in shipments]).update(raw={"erased": True})
    for pk, tracking in shipments:
        if tracking:
            CarrierWebhookLog.objects.filter(tracking_numbers__contains=tracking).update(payload={"erased": True})


def _erase_messages(user, order_ids, values):
    from notifications.models import DeliveryAttempt, InboxMessage, Notification, Suppression

    rows = Notification.objects.filter(Q(recipient=user) | Q(order_id__in=order_ids))
    ids = list(rows.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids, status__in=["queued", "sending"]).update(
        status="skipped", status_reason="The customer deleted their account.")
    Notification.objects.filter(pk__in=ids).update(context={"erased": True}, subject="", body_text="", body_html="",
                                                   last_error="", updated_at=timezone.now())
    customer_rows = Notification.objects.filter(pk__in=ids, audience="customer")
    for pk, reason in customer_rows.values_list("pk", "status_reason"):
        Notification.objects.filter(pk=pk).update(recipient_address=f"erased:{pk}",
                                                  status_reason=scrub(reason, values)[:300])
    DeliveryAttempt.objects.filter(notification_id__in=ids).update(error="")
    InboxMessage.objects.filter(user=user).delete()
    for message in InboxMessage.objects.filter(notification_id__in=ids):  # the sellers' copies
        InboxMessage.objects.filter(pk=message.pk).update(title=scrub(message.title, values)[:300],
                                                          body=scrub(message.body, values))
    addresses = {v for v in values if "@" in v or v.startswith("+")}
    Suppression.objects.filter(address__in=addresses | {a.lower() for a in addresses}).delete()


def erase_customer(*, user) -> list[str]:
    """Erase everything personal about ``user`` except the User row itself (the caller
    anonymises it). Returns the storage names of files to delete after commit."""
    from catalog.models import BackInStockSubscription
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from notifications.models import CustomerPreference, QuietHours
    from orders.models import Order

    from .models import AccountEvent, ConsentRecord, DataExport, LoginActivity, LoyaltyAccount

    orders = list(Order.objects.filter(customer=user))
    values = personal_values(user, orders)
    _erase_orders(orders, values)
    _erase_messages(user, [o.pk for o in orders], values)
    for consent in ConsentRecord.objects.filter(Q(user=user) | Q(email__iexact=user.email)):
        ConsentRecord.objects.filter(pk=consent.pk).update(email="", ip_address=None,
                                                           source=scrub(consent.source, values)[:64])
    LoginActivity.objects.filter(user=user).delete()
    AccountEvent.objects.filter(user=user).delete()  # the security timeline: addresses and devices
    _erase_login_throttle_records(user)
    LoyaltyAccount.objects.filter(user=user).delete()
    CustomerPreference.objects.filter(user=user).delete()
    QuietHours.objects.filter(user=user).delete()
    BackInStockSubscription.objects.filter(Q(user=user) | Q(email__iexact=user.email)).delete()
    files = [name for name in DataExport.objects.filter(user=user).values_list("file", flat=True) if name]
    DataExport.objects.filter(user=user).delete()
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(user)),
                            object_id=str(user.pk)).update(object_repr="Deleted customer", change_message="")
    return files


def _erase_login_throttle_records(user) -> None:
    """django-axes keeps sign-in attempts and logins (username, address, browser) per username."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    names = {user.username, user.email, user.email.lower()} - {""}
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(username__in=names).delete()
