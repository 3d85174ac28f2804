"""What "download my data" contains: every part of the account, as plain JSON-safe dicts.

Every query is scoped to the one user (their orders are ``customer=user``; their messages are the
customer copies addressed to them), so nothing of another customer, and none of the seller copies
of their orders, can end up in the archive.
"""
from django.db.models import Q
from django.utils import timezone


def _iso(value):
    return value.isoformat() if value else None


def _account(user) -> dict:
    return {
        "username": user.username, "email": user.email, "first_name": user.first_name,
        "last_name": user.last_name, "phone": str(user.phone or ""), "sms_opt_in": user.sms_opt_in,
        "language": user.language, "time_zone": user.time_zone, "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
    }


def _address(order) -> dict:
    return {"name": order.shipping_name, "line1": order.shipping_line1, "line2": order.shipping_line2,
            "city": order.shipping_city, "postcode": order.shipping_postcode, "country": order.shipping_country}


def _orders(user) -> tuple[list, list]:
    from orders.models import Order

    orders = (Order.objects.filter(customer=user).select_related("store")
              .prefetch_related("lines", "payments", "shipments", "events", "returns__lines").order_by("placed_at", "id"))
    out, addresses = [], []
    for order in orders:
        address = _address(order)
        if address not in addresses:
            addresses.append(address)
        out.append({
            "number": order.number, "store": order.store.name, "status": order.status,
            "placed_at": _iso(order.placed_at), "email": order.email, "phone": order.phone,
            "sms_opt_in": order.sms_opt_in, "currency": order.currency, "subtotal": str(order.subtotal),
            "shipping_total": str(order.shipping_total), "tax_total": str(order.tax_total), "total": str(order.total),
            "shipping_address": address, "shipping_method": order.shipping_method,
            "estimated_delivery": _iso(order.estimated_delivery), "customer_note": order.customer_note,
            "lines": [{"product": line.product_name, "sku": line.sku, "quantity": line.quantity,
                       "unit_price": str(line.unit_price)} for line in order.lines.all()],
            "payments": [{"method": p.method, "status": p.status, "amount": str(p.amount), "card_last4": p.card_last4,
                          "created_at": _iso(p.created_at)} for p in order.payments.all()],
            "shipments": [{"carrier": s.carrier_name or s.carrier, "tracking_number": s.tracking_number,
                           "status": s.status, "eta": _iso(s.eta)} for s in order.shipments.all()],
            "timeline": [{"at": _iso(e.created_at), "kind": e.kind, "by": e.actor_label, "from": e.from_status,
                          "to": e.to_status, "note": e.note} for e in order.events.all()],
            "returns": [{"number": r.number, "status": r.status, "reason": r.reason,
                         "refund_amount": str(r.refund_amount), "created_at": _iso(r.created_at),
                         "items": [line.product_name for line in r.lines.all()]} for r in order.returns.all()],
        })
    return out, addresses


def _messages(user) -> dict:
    from notifications.models import InboxMessage, Notification

    sent = (Notification.objects.filter(recipient=user, audience="customer")
            .order_by("created_at", "id"))
    return {
        "notifications": [{
            "event": n.event, "channel": n.channel, "to": n.recipient_address, "status": n.status,
            "category": n.category, "legal_basis": n.legal_basis, "subject": n.subject, "body": n.body_text,
            "created_at": _iso(n.created_at), "sent_at": _iso(n.sent_at), "delivered_at": _iso(n.delivered_at),
        } for n in sent],
        "inbox": [{"title": m.title, "body": m.body, "created_at": _iso(m.created_at), "read_at": _iso(m.read_at)}
                  for m in InboxMessage.objects.filter(user=user).order_by("created_at", "id")],
    }


def archive_data(*, user) -> dict:
    from catalog.models import BackInStockSubscription
    from notifications.models import CustomerPreference, QuietHours

    from .models import ConsentRecord, LoginActivity, LoyaltyAccount

    orders, addresses = _orders(user)
    loyalty = LoyaltyAccount.objects.filter(user=user).first()
    quiet = QuietHours.objects.filter(user=user).first()
    return {
        "generated_at": timezone.now().isoformat(),
        "account": _account(user),
        "addresses": addresses,
        "orders": orders,
        "messages": _messages(user),
        "consents": [{"kind": c.kind, "granted": c.granted, "source": c.source, "email": c.email,
                      "ip_address": c.ip_address, "at": _iso(c.created_at)}
                     for c in ConsentRecord.objects.filter(user=user).order_by("created_at", "id")],
        "preferences": {
            "channels": [{"category": p.category, "channel": p.channel, "enabled": p.enabled}
                         for p in CustomerPreference.objects.filter(user=user).order_by("category", "channel")],
            "quiet_hours": ({"enabled": quiet.enabled, "start": quiet.start.isoformat(), "end": quiet.end.isoformat()}
                            if quiet else None),
        },
        "loyalty": ({"points": loyalty.points, "tier": loyalty.tier.name if loyalty.tier else None,
                     "updated_at": _iso(loyalty.updated_at),
                     "ledger": [{"at": _iso(e.created_at), "kind": e.kind, "points": e.points, "balance": e.balance,
                                 "reference": e.reference, "note": e.note}
                                for e in loyalty.entries.order_by("created_at", "id")]}
                    if loyalty else None),
        "login_activity": [{"at": _iso(a.created_at), "ip_address": a.ip_address, "user_agent": a.user_agent,
                            "succeeded": a.succeeded}
                           for a in LoginActivity.objects.filter(user=user).order_by("created_at", "id")],
        "back_in_stock": [{"product": s.product.name, "email": s.email, "created_at": _iso(s.created_at),
                           "notified_at": _iso(s.notified_at)}
                          for s in BackInStockSubscription.objects.filter(Q(user=user)).select_related("product")
                          .order_by("created_at", "id")],
    }
