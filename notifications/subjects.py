"""What an event is about: one *subject kind* per EventDef.subject, each with its own recipient
rules, context builder, reference for the Notification row and sample data for the admin.

The outbox (``notification_enqueue``) asks the event's kind, never the order directly:

    kind = subject_kind(event)        # from EventDef.subject: order | product | account
    kind.allowed(...)                 # store switches (order events)
    kind.recipients(event, audience, channels, subject)
    kind.context(event, audience, subject)     -> the plain dict shared by that audience
    kind.personalise(ctx, recipient, subject)  -> the row's own copy (first name, stop link)
    kind.reference(subject)           -> subject_type / subject_id (+ order_id / store_id)

Order events keep their context builder in ``context.py``; product and account contexts are
built in ``context_subjects.py``. A non-order change is identified by its timeline row, as an
order change is by its OrderEvent: ``catalog.ProductEvent`` (key ``<code>:pe<id>``) and
``accounts.AccountEvent`` (``<code>:ae<id>``).
"""
from dataclasses import dataclass, field

from .events import Audience, Channel, SubjectKind, get_event
from .recipients import (
    Recipient,
    account_owner_recipients,
    buyer_recipients,
    staff_recipients,
    store_seller_recipients,
    subscriber_recipients,
    supplier_recipients,
)


@dataclass
class Ref:
    type: str
    id: int | None
    order_id: int | None = None
    store_id: int | None = None


@dataclass
class ProductSubject:
    """A product change: the product (with its store), the timeline row, the facts of the change,
    the restock figures (stock.low) and the subscriptions chosen for this restock (back in stock)."""

    product: object
    event: object = None  # catalog.ProductEvent
    change: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    subscriptions: list = field(default_factory=list)


@dataclass
class AccountSubject:
    """An account change: the user, the timeline row (accounts.AccountEvent) and the facts."""

    user: object
    event: object = None
    change: dict = field(default_factory=dict)


def _first_name(user, fallback: str = "") -> str:
    if user is not None:
        return user.first_name or user.username
    return fallback


class OrderKind:
    name = SubjectKind.ORDER

    def reference(self, subject) -> Ref:
        order = subject.order
        return Ref(SubjectKind.ORDER, order.pk, order.pk, order.store_id)

    def allowed(self, definition, audience, subject) -> bool:
        from .outbox import store_switch_on

        if audience == Audience.CUSTOMER and definition.store_switch:
            return store_switch_on(subject, definition.store_switch)
        return True

    def recipients(self, event, audience, channels, subject) -> list[Recipient]:
        from .outbox import customer_recipients, seller_channels_enabled, seller_recipients

        order = subject.order
        if audience == Audience.CUSTOMER:
            # Whether the customer has a browser subscribed to push, if read with the subject.
            return customer_recipients(order, channels, push=getattr(subject.settings, "customer_push", None))
        if audience == Audience.SELLER:
            return seller_recipients(order, seller_channels_enabled(order.store_id, event, channels))
        if audience == Audience.STAFF:
            return staff_recipients(channels)
        return []

    def context(self, event, audience, subject) -> dict:
        from .context import build_context

        return build_context(event, audience, subject)

    def personalise(self, ctx, recipient, audience, subject) -> dict:
        from .context import for_recipient

        return for_recipient(ctx, recipient.user, audience, subject.order)

    def sample(self, event):
        from .context import sample_subject

        return sample_subject(event)


# Per event code and audience: the rule that finds the recipients of a product event.
PRODUCT_RULES = {
    ("stock.low", Audience.SELLER): lambda event, channels, s: store_seller_recipients(
        s.product.store_id, _seller_channels(s.product.store_id, event, channels)),
    ("stock.low", Audience.SUPPLIER): lambda event, channels, s: supplier_recipients(s.product, channels),
    ("product.back_in_stock", Audience.CUSTOMER): lambda event, channels, s: subscriber_recipients(
        s.subscriptions, channels),
    ("product.alert_confirm", Audience.CUSTOMER): lambda event, channels, s: subscriber_recipients(
        s.subscriptions, channels),
    ("product.updated", Audience.CUSTOMER): lambda event, channels, s: buyer_recipients(s.product, channels),
    ("product.updated", Audience.SUPPLIER): lambda event, channels, s: supplier_recipients(s.product, channels),
}


def _seller_channels(store_id, event, channels):
    from .outbox import seller_channels_enabled

    return seller_channels_enabled(store_id, event, channels)


class ProductKind:
    name = SubjectKind.PRODUCT

    def reference(self, subject: ProductSubject) -> Ref:
        return Ref(SubjectKind.PRODUCT, subject.product.pk, None, subject.product.store_id)

    def allowed(self, definition, audience, subject) -> bool:
        return True

    def recipients(self, event, audience, channels, subject: ProductSubject) -> list[Recipient]:
        rule = PRODUCT_RULES.get((event, audience))
        return rule(event, channels, subject) if rule else []

    def context(self, event, audience, subject: ProductSubject) -> dict:
        from .context_subjects import product_context

        return product_context(event, audience, subject)

    def personalise(self, ctx, recipient, audience, subject) -> dict:
        from .context_subjects import personal_links

        out = dict(ctx)
        fallback = (recipient.extra or {}).get("name", "") if audience == Audience.SUPPLIER else ""
        out["recipient"] = {"first_name": _first_name(recipient.user, fallback), "audience": audience}
        out["links"] = personal_links(ctx["links"], ctx["event"]["code"], recipient)
        return out

    def sample(self, event):
        from .context_subjects import sample_product_subject

        return sample_product_subject(event)


class AccountKind:
    name = SubjectKind.ACCOUNT

    def reference(self, subject: AccountSubject) -> Ref:
        return Ref(SubjectKind.ACCOUNT, subject.user.pk, None, None)

    def allowed(self, definition, audience, subject) -> bool:
        return True

    def recipients(self, event, audience, channels, subject: AccountSubject) -> list[Recipient]:
        if audience != Audience.CUSTOMER:
            return []
        basis = ("legitimate interest: account security" if event.startswith("account.")
                 else "contract: loyalty programme")
        return account_owner_recipients(subject.user, channels, basis=basis, event=event)

    def context(self, event, audience, subject: AccountSubject) -> dict:
        from .context_subjects import account_context

        return account_context(event, audience, subject)

    def personalise(self, ctx, recipient, audience, subject) -> dict:
        out = dict(ctx)
        out["recipient"] = {"first_name": _first_name(recipient.user), "audience": audience}
        return out

    def sample(self, event):
        from .context_subjects import sample_account_subject

        return sample_account_subject(event)


class StoreKind:
    """A store's digest of many orders (notifications.digest writes its rows itself: one per
    seller × channel × window, from the held alerts it covers). Here for its context and samples."""

    name = SubjectKind.STORE

    def reference(self, subject) -> Ref:
        return Ref(SubjectKind.STORE, subject.store.pk, None, subject.store.pk)
    def context(self, event, audience, subject) -> dict:
        from .digest import digest_context

        return digest_context(event, subject)

    def personalise(self, ctx, recipient, audience, subject) -> dict:
        out = dict(ctx)
        out["recipient"] = {"first_name": _first_name(recipient.user), "audience": audience}
        return out

    def sample(self, event):
        from .digest import sample_digest_subject

        return sample_digest_subject()


@dataclass
class PromotionSubject:
    """A promotion (marketing.Promotion); ``products`` only for the unsaved sample."""

    promotion: object
    products: list | None = None


class PromotionKind:
    """A promotion's rows are written by the chunked fan-out (marketing.fanout) straight from the
    consent records, never through ``notification_enqueue``: no recipient list is built here. Every
    row shares the promotion's one context (Promotion.context); ``personalise`` is what delivery
    adds per row (marketing.context.for_row)."""

    name = SubjectKind.PROMOTION

    def reference(self, subject: PromotionSubject) -> Ref:
        return Ref(SubjectKind.PROMOTION, subject.promotion.pk, None, subject.promotion.store_id)
    def context(self, event, audience, subject: PromotionSubject) -> dict:
        from marketing.context import promotion_context

        return promotion_context(subject.promotion, subject.products)

    def personalise(self, ctx, recipient, audience, subject) -> dict:
        from marketing.context import for_row

        return for_row(ctx, first_name=_first_name(recipient.user), address=recipient.address,
                       channel=recipient.channel, promotion_id=subject.promotion.pk)

    def sample(self, event):
        from marketing.context import sample_promotion

        promotion, products = sample_promotion()
        return PromotionSubject(promotion, products)


KINDS = {SubjectKind.ORDER: OrderKind(), SubjectKind.PRODUCT: ProductKind(), SubjectKind.ACCOUNT: AccountKind(),
         SubjectKind.STORE: StoreKind(), SubjectKind.PROMOTION: PromotionKind()}


def subject_kind(event_code: str):
    return KINDS[get_event(event_code).subject]


def sample_context(event_code: str, audience: str) -> dict:
    """The admin's sample context for any event (validation, preview, test send)."""
    kind = subject_kind(event_code)
    subject = kind.sample(event_code)
    ctx = kind.context(event_code, audience, subject)
    ctx["recipient"] = {"first_name": "Ada" if audience == Audience.CUSTOMER else "Sam", "audience": audience}
    if kind.name == SubjectKind.PROMOTION:
        ctx = kind.personalise(ctx, Recipient(audience, Channel.EMAIL, "ada@example.com"), audience, subject)
        ctx["recipient"]["first_name"] = "Ada"
    if kind.name == SubjectKind.PRODUCT:
        from .context_subjects import personal_links

        ctx["links"] = personal_links(ctx["links"], event_code, Recipient(audience, Channel.EMAIL,
                                                                          "ada@example.com",
                                                                          extra={"subscription_id": 0}))
    return ctx
