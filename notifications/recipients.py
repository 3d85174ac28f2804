"""Who receives an event: the recipient rules, one small function per rule.

Order events use ``outbox.customer_recipients`` / ``outbox.seller_recipients`` (the order's email,
phone and customer, the store's sellers). The rules here serve the other subjects: a store's
sellers for a product, a product's supplier, the customers waiting for a product, a product's past
buyers who agreed to marketing, and an account's owner. ``subjects.py`` says which rule applies
to which event and audience.
"""
from dataclasses import dataclass

from .events import Audience, Channel


@dataclass
class Recipient:
    audience: str
    channel: str
    address: str
    user: object = None
    legal_basis: str = ""
    # The rule already applied the recipient's choice (marketing consent), so the outbox does not
    # ask the preference table again.
    preference_checked: bool = False
    # Anything the per-recipient context needs (a subscription id for its stop link…).
    extra: dict | None = None
    # The language they chose for this (an order's checkout, a stock alert's page); "" = the account's.
    language: str = ""


def normalise_address(channel: str, address: str) -> str:
    address = (address or "").strip()
    return address.lower() if channel == Channel.EMAIL else address


def _user_address(user, channel: str) -> str:
    if channel == Channel.EMAIL:
        return user.email or ""
    if channel == Channel.SMS:
        return str(user.phone or "") if getattr(user, "sms_opt_in", False) else ""
    if channel == Channel.WHATSAPP:
        return str(user.phone or "") if getattr(user, "whatsapp_opt_in", False) else ""
    if channel == Channel.PUSH:
        from .outbox import push_subscribed

        return f"user:{user.pk}" if push_subscribed({user.pk}) else ""
    return f"user:{user.pk}"


def verified_phone(user) -> str:
    """A seller's number for SMS alerts, once they proved it with a code (else none)."""
    phone = str(user.phone or "")
    return phone if phone and user.phone_verified_number == phone else ""


def store_seller_recipients(store_id, channels, *, basis="contract: seller terms (store alerts)") -> list[Recipient]:
    """Every active seller of the store on each channel they have an address for."""
    from django.contrib.auth import get_user_model

    out = []
    from .outbox import push_subscribed

    sellers = list(get_user_model().objects.filter(store_id=store_id, is_active=True).order_by("id"))
    pushable = push_subscribed({u.pk for u in sellers}) if Channel.PUSH in channels else set()
    for user in sellers:
        for channel in channels:
            address = {Channel.EMAIL: user.email, Channel.SMS: verified_phone(user),
                       Channel.INAPP: f"user:{user.pk}",
                       Channel.PUSH: f"user:{user.pk}" if user.pk in pushable else ""}.get(Channel(channel), "")
            if address:
                out.append(Recipient(Audience.SELLER, channel, normalise_address(channel, address), user, basis))
    return out


def staff_recipients(channels, *, basis="legitimate interest: platform oversight of late orders") -> list[Recipient]:
    """Platform staff: active staff accounts that are not a store's sellers."""
    from django.contrib.auth import get_user_model

    out = []
    for user in get_user_model().objects.filter(is_staff=True, is_active=True, store__isnull=True).order_by("id"):
        for channel in channels:
            address = {Channel.EMAIL: user.email, Channel.INAPP: f"user:{user.pk}"}.get(Channel(channel), "")
            if address:
                out.append(Recipient(Audience.STAFF, channel, normalise_address(channel, address), user, basis))
    return out


def supplier_recipients(product, channels) -> list[Recipient]:
    """The product's supplier, by email only (an outside contact: no phone, no inbox)."""
    if Channel.EMAIL not in channels or not product.supplier_email:
        return []
    return [Recipient(Audience.SUPPLIER, Channel.EMAIL, normalise_address(Channel.EMAIL, product.supplier_email),
                      None, f"contract: supplier of {product.sku}", extra={"name": product.supplier_name})]


def account_owner_recipients(user, channels, *, basis: str, event: str = "") -> list[Recipient]:
    """The account's owner; an inactive account hears only its sign-up confirmation (by email)."""
    out = []
    for channel in channels:
        address = _user_address(user, channel)
        if event == "account.phone_verify" and channel == Channel.SMS:
            address = str(user.phone or "")  # asked for now, to this number: no SMS opt-in needed
        waiting = event == "account.signup_confirm" and channel == Channel.EMAIL
        if address and (user.is_active or waiting):
            out.append(Recipient(Audience.CUSTOMER, channel, normalise_address(channel, address), user, basis))
    return out


def subscriber_recipients(subscriptions, channels) -> list[Recipient]:
    """The customers chosen for this restock (``catalog.inventory`` picks them, oldest first)."""
    out = []
    for sub in subscriptions:
        extra = {"subscription_id": sub.pk}
        if Channel.EMAIL in channels:
            out.append(Recipient(Audience.CUSTOMER, Channel.EMAIL, normalise_address(Channel.EMAIL, sub.email),
                                 sub.user, "request: asked to be told when it is back", extra=extra,
                                 language=sub.language))
        if Channel.INAPP in channels and sub.user_id:
            out.append(Recipient(Audience.CUSTOMER, Channel.INAPP, f"user:{sub.user_id}", sub.user,
                                 "request: asked to be told when it is back", extra=extra, language=sub.language))
    return out


def marketing_consented(emails: set[str]) -> dict[str, object]:
    """{email: ConsentRecord} for the addresses whose latest marketing-email record is an opt-in
    (given at checkout or on the preferences page; withdrawing records an opt-out)."""
    from accounts.models import ConsentRecord

    latest: dict[str, object] = {}
    rows = (ConsentRecord.objects.filter(kind=ConsentRecord.Kind.MARKETING_EMAIL)
            .filter(email__in=emails).order_by("email", "-created_at", "-id"))
    for record in rows:
        key = record.email.strip().lower()
        latest.setdefault(key, record)
    return {email: record for email, record in latest.items() if record.granted}


def buyer_recipients(product, channels) -> list[Recipient]:
    """Past buyers of the product whose latest marketing choice is yes, by email (all at once: the
    product.updated fan-out writes them a chunk at a time with ``buyer_recipients_chunk``)."""
    if Channel.EMAIL not in channels:
        return []
    from orders.models import OrderLine

    rows = (OrderLine.objects.filter(product_id=product.pk)
            .values_list("order__email", "order__customer_id", "order__language").order_by("order_id").distinct())
    return _consenting_buyers(rows)


def buyer_recipients_chunk(product, *, after: str, size: int) -> tuple[list[Recipient], str, int]:
    """The next ``size`` buyer addresses after ``after`` (keyset over the order email, lower-cased):
    (the consenting recipients among them, the last address looked at, how many were looked at)."""
    from django.db.models.functions import Lower

    from orders.models import Order

    emails = list(Order.objects.filter(lines__product_id=product.pk).annotate(addr=Lower("email"))
                  .filter(addr__gt=after or "").exclude(addr="").order_by("addr")
                  .values_list("addr", flat=True).distinct()[:size])
    if not emails:
        return [], after, 0
    rows = (Order.objects.filter(lines__product_id=product.pk).annotate(addr=Lower("email"))
            .filter(addr__in=emails).values_list("addr", "customer_id", "language").order_by("id").distinct())
    return _consenting_buyers(rows), emails[-1], len(emails)


def _consenting_buyers(rows) -> list[Recipient]:
    """``rows``: (order email, customer id, order language), oldest order first."""
    from django.contrib.auth import get_user_model

    emails, users_by_email, languages = set(), {}, {}
    for email, customer_id, language in rows:
        email = (email or "").strip().lower()
        if email:
            emails.add(email)
            languages[email] = language  # a guest's: the language of their latest order
            if customer_id:
                users_by_email[email] = customer_id
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=set(users_by_email.values()))}
    # A signed-in buyer's consent may have been given under their account email.
    consented = marketing_consented(emails | {u.email.lower() for u in users.values()})
    out = []
    for email in sorted(emails):
        user = users.get(users_by_email.get(email))
        record = consented.get(email) or (consented.get(user.email.lower()) if user else None)
        if record is None:
            continue
        out.append(Recipient(Audience.CUSTOMER, Channel.EMAIL, email, user,
                             f"consent: marketing email ({record.source}, {record.created_at:%Y-%m-%d})",
                             preference_checked=True, language="" if user else languages.get(email, "")))
    return out
