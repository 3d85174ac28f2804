"""Orders in the admin. Statuses are read-only here: every change goes through orders.services
(admin actions call order_transition / payment_set_status / return_set_status), so the transition
table, the timeline and the notifications apply exactly as they do from the dashboards."""
from django.contrib import admin, messages
from django.utils.html import format_html

from . import models as m
from .services import TransitionNotAllowed, order_transition, payment_set_status, return_set_status


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = m.OrderLine
    fields = ("product_name", "sku", "unit_price", "quantity", "is_backordered", "product")
    readonly_fields = fields
    show_change_link = False


class PaymentInline(ReadOnlyInline):
    model = m.Payment
    fields = ("created_at", "method", "status", "amount", "card_last4", "reference", "failure_reason")
    readonly_fields = fields


class ShipmentInline(ReadOnlyInline):
    model = m.Shipment
    fields = ("carrier_name", "tracking_number", "status", "eta", "shipped_at", "delivered_at")
    readonly_fields = fields


class OrderMessageInline(ReadOnlyInline):
    model = m.OrderMessage
    verbose_name_plural = "Conversation"
    fields = ("created_at", "author_kind", "author_name", "body")
    readonly_fields = fields
    show_change_link = False


class OrderEventInline(ReadOnlyInline):
    model = m.OrderEvent
    verbose_name_plural = "Timeline"
    fields = ("created_at", "kind", "actor_label", "from_status", "to_status", "note")
    readonly_fields = fields
    show_change_link = False


def _run(modeladmin, request, queryset, fn, done: str):
    from seller.services import ActionNotPossible

    ok, failed = 0, []
    for obj in queryset:
        try:
            fn(obj)
            ok += 1
        except (TransitionNotAllowed, ActionNotPossible, ValueError) as exc:
            failed.append(f"{obj}: {exc}")
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", messages.SUCCESS)
    for line in failed[:10]:
        modeladmin.message_user(request, line, messages.ERROR)
    if len(failed) > 10:
        modeladmin.message_user(request, f"… and {len(failed) - 10} more not changed.", messages.ERROR)


def _order_action(to: str, label: str, note: str):
    def action(modeladmin, request, queryset):
        _run(modeladmin, request, queryset.order_by("pk"),
             lambda order: order_transition(order=order, to=to, actor=request.user, note=note),
             f"order(s) moved to {to}")
    action.__name__ = f"move_to_{to}"
    return admin.action(description=label)(action)


# Cancelling, refunding and confirming delivery are more than a status change (refund the payment,
# record the delivery on the shipment): staff use the same composite services as sellers.
@admin.action(description="Cancel (refunds a captured payment)")
def cancel_orders(modeladmin, request, queryset):
    from seller.services import order_cancel

    _run(modeladmin, request, queryset.order_by("pk"),
         lambda order: order_cancel(order=order, actor=request.user, reason="Cancelled by staff",
                                    cancelled_by="staff"),
         "order(s) cancelled")


@admin.action(description="Refund (refunds the captured payment)")
def refund_orders(modeladmin, request, queryset):
    from seller.services import order_refund

    _run(modeladmin, request, queryset.order_by("pk"),
         lambda order: order_refund(order=order, actor=request.user, reason="Refunded by staff"),
         "order(s) refunded")


@admin.action(description="Mark delivered (shipped orders)")
def mark_delivered(modeladmin, request, queryset):
    from seller.services import shipment_mark_delivered

    _run(modeladmin, request, queryset.order_by("pk"),
         lambda order: shipment_mark_delivered(order=order, actor=request.user),
         "order(s) marked delivered")


@admin.register(m.Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "placed_at", "store", "customer_or_email", "status_badge", "total", "shipping_method",
                    "is_backordered", "estimated_delivery")
    list_filter = ("status", "store", "shipping_method", "is_backordered", "placed_at")
    search_fields = ("number", "email", "customer__username", "customer__email", "shipping_name",
                     "shipping_postcode", "phone", "=checkout_id")
    list_select_related = ("store", "customer")
    date_hierarchy = "placed_at"
    raw_id_fields = ("customer",)
    autocomplete_fields = ("store",)
    inlines = [OrderLineInline, PaymentInline, ShipmentInline, OrderMessageInline, OrderEventInline]
    readonly_fields = ("number", "status", "checkout_id", "store", "currency", "subtotal", "shipping_total",
                       "tax_total", "total", "is_backordered", "backorder_expected", "hold_reason", "cancel_reason",
                       "placed_at", "updated_at", "status_link", "ship_by", "sla_step", "sla_due_at")
    fieldsets = (
        (None, {"fields": ("number", "status", "store", "customer", "email", "phone", "sms_opt_in", "checkout_id",
                           "status_link")}),
        ("Totals", {"fields": ("currency", "subtotal", "shipping_total", "tax_total", "total")}),
        ("Delivery", {"fields": ("shipping_name", "shipping_line1", "shipping_line2", "shipping_city",
                                 "shipping_postcode", "shipping_country", "shipping_method", "estimated_delivery")}),
        ("Flags", {"fields": ("is_backordered", "backorder_expected", "hold_reason", "cancel_reason",
                              "customer_note")}),
        ("Shipping deadline (orders.sla)", {"fields": ("ship_by", "sla_step", "sla_due_at")}),
        ("Times", {"fields": ("placed_at", "updated_at")}),
    )
    actions = [
        _order_action(m.OrderStatus.PROCESSING, "Move to processing (confirmed / paid)", "Confirmed by staff"),
        _order_action(m.OrderStatus.ON_HOLD, "Put on hold", "Put on hold by staff"),
        mark_delivered,
        cancel_orders,
        refund_orders,
    ]

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def save_model(self, request, obj, form, change):
        # Only the edited fields: never write a stale status (or anything else) back.
        if form.changed_data:
            obj.save(update_fields=form.changed_data + ["updated_at"])

    @admin.display(description="Customer", ordering="email")
    def customer_or_email(self, obj):
        return obj.customer.username if obj.customer else f"{obj.email} (guest)"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @admin.display(description="Customer status page")
    def status_link(self, obj):
        from .links import status_path

        return format_html('<a href="{}" target="_blank" rel="noopener">signed link</a>', status_path(obj))


@admin.register(m.OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ("order", "product_name", "sku", "unit_price", "quantity", "is_backordered")
    list_filter = ("is_backordered", "order__store")
    search_fields = ("order__number", "product_name", "sku")
    list_select_related = ("order",)


def _payment_action(to: str, label: str):
    def action(modeladmin, request, queryset):
        _run(modeladmin, request, queryset.order_by("pk"),
             lambda payment: payment_set_status(payment=payment, to=to, actor=request.user,
                                                reason=f"Set to {to} by staff" if to == "failed" else ""),
             f"payment(s) marked {to}")
    action.__name__ = f"mark_{to}"
    return admin.action(description=label)(action)


@admin.register(m.Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("order", "created_at", "method", "status", "amount", "refunded_amount", "card_last4", "reference",
                    "failure_reason")
    list_filter = ("method", "status", "created_at")
    search_fields = ("order__number", "order__email", "reference", "card_last4")
    list_select_related = ("order",)
    raw_id_fields = ("order",)
    readonly_fields = ("order", "method", "status", "amount", "refunded_amount", "card_last4", "reference",
                       "failure_reason", "created_at", "updated_at")
    actions = [_payment_action(m.Payment.Status.CAPTURED, "Mark captured (payment received)"),
               _payment_action(m.Payment.Status.FAILED, "Mark failed"),
               _payment_action(m.Payment.Status.REFUNDED, "Mark refunded")]

    def has_add_permission(self, request):
        return False


class TrackingEventInline(ReadOnlyInline):
    model = m.TrackingEvent
    fields = ("occurred_at", "status", "message", "location", "source", "received_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(m.Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("tracking_number", "carrier", "order", "status", "eta", "shipped_at", "delivered_at",
                    "last_event_at")
    list_filter = ("carrier", "status", "shipped_at")
    search_fields = ("tracking_number", "order__number", "order__email")
    list_select_related = ("order",)
    raw_id_fields = ("order",)
    inlines = [TrackingEventInline]
    readonly_fields = ("order", "carrier", "tracking_number", "status", "shipped_at", "delivered_at",
                       "last_event_at", "last_polled_at", "eta", "tracking_link")
    fields = ("order", "carrier", "carrier_name", "tracking_number", "tracking_link", "tracking_url", "status", "eta",
              "shipped_at", "delivered_at", "last_event_at", "last_polled_at", "next_poll_at")

    def has_add_permission(self, request):
        return False  # shipments are created from the seller dashboard (shipment_create)

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            obj.save(update_fields=form.changed_data)

    @admin.display(description="Track")
    def tracking_link(self, obj):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.tracking_url,
                           obj.tracking_url) if obj.tracking_url else "—"


@admin.register(m.TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "shipment", "status", "message", "location", "source", "received_at")
    list_filter = ("status", "source")
    search_fields = ("shipment__tracking_number", "shipment__order__number", "dedupe_key", "message")
    list_select_related = ("shipment",)


@admin.register(m.OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order", "kind", "actor_label", "from_status", "to_status", "note")
    list_filter = ("kind", "to_status", "created_at")
    search_fields = ("order__number", "actor_label", "note")
    list_select_related = ("order",)
    date_hierarchy = "created_at"


def _return_action(to: str, label: str):
    def action(modeladmin, request, queryset):
        _run(modeladmin, request, queryset.order_by("pk"),
             lambda rr: return_set_status(return_request=rr, to=to, actor=request.user,
                                          note="Rejected by staff" if to == "rejected" else ""),
             f"return(s) moved to {to}")
    action.__name__ = f"return_{to}"
    return admin.action(description=label)(action)


@admin.register(m.ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ("number", "order", "status", "refund_amount", "created_at", "updated_at")
    list_filter = ("status", "created_at", "order__store")
    search_fields = ("number", "order__number", "order__email", "reason")
    list_select_related = ("order",)
    raw_id_fields = ("order",)
    readonly_fields = ("number", "order", "status", "lines", "refund_amount", "rejection_reason", "created_at",
                       "updated_at")
    fields = ("number", "order", "status", "reason", "lines", "refund_amount", "return_address", "rejection_reason",
              "created_at", "updated_at")
    actions = [_return_action(s, f"Move to {label.lower()}") for s, label in m.ReturnRequest.Status.choices
               if s != m.ReturnRequest.Status.REQUESTED]

    def has_add_permission(self, request):
        return False  # customers request returns from their order page

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            obj.save(update_fields=form.changed_data + ["updated_at"])


@admin.register(m.OrderFeedback)
class OrderFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("order", "rating", "comment", "created_at", "updated_at")
    list_filter = ("rating", "created_at", "order__store")
    search_fields = ("order__number", "order__email", "comment")
    list_select_related = ("order",)


if hasattr(m, "CarrierWebhookLog"):
    @admin.register(m.CarrierWebhookLog)
    class CarrierWebhookLogAdmin(ReadOnlyAdmin):
        list_display = ("received_at", "carrier", "event_type", "event_id", "tracking_numbers", "outcome",
                        "checkpoints_stored")
        list_filter = ("carrier", "outcome", "received_at")
        search_fields = ("event_id", "tracking_numbers", "detail")


@admin.register(m.StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event_type", "event_id", "payment_intent", "outcome", "detail")
    list_filter = ("event_type", "outcome", "received_at")
    search_fields = ("event_id", "payment_intent", "detail")


@admin.register(m.AggregatorTracker)
class AggregatorTrackerAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "provider", "tracker_id", "status", "shipment", "last_polled_at")
    list_filter = ("provider", "status")
    search_fields = ("tracker_id", "shipment__tracking_number")


@admin.register(m.OrderMessage)
class OrderMessageAdmin(ReadOnlyAdmin):
    """The conversations about orders (written only from the status page and the seller's order page)."""
    list_display = ("created_at", "order", "author_kind", "author_name", "body")
    list_filter = ("author_kind", "created_at")
    search_fields = ("order__number", "author_name", "body")
    list_select_related = ("order",)
    raw_id_fields = ("order", "author")
