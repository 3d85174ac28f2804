from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from notify_site.text import validate_single_line

from .models import BackInStockSubscription, Product, ProductEvent, Store
from .services import StockError, stock_set


class StoreAdminForm(forms.ModelForm):
    """The store's name and sender name end up in the From header of its customers' emails."""

    class Meta:
        model = Store
        fields = "__all__"

    def clean_name(self):
        validate_single_line(self.cleaned_data.get("name", ""))
        return self.cleaned_data.get("name", "")

    def clean_sender_name(self):
        validate_single_line(self.cleaned_data.get("sender_name", ""))
        return self.cleaned_data.get("sender_name", "")


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreAdminForm
    list_display = ("name", "slug", "sender_name", "support_email", "product_count", "created_at")
    search_fields = ("name", "slug", "sender_name", "support_email")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(ordering="product_count", description="Products")
    def product_count(self, obj):
        return obj.product_count


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("out", "Out of stock (≤ 0)"), ("low", "Low (at or under threshold)"), ("ok", "In stock")]

    def queryset(self, request, queryset):
        from django.db.models import F

        if self.value() == "out":
            return queryset.filter(stock_on_hand__lte=0)
        if self.value() == "low":
            return queryset.filter(stock_on_hand__gt=0, stock_on_hand__lte=F("low_stock_threshold"))
        if self.value() == "ok":
            return queryset.filter(stock_on_hand__gt=F("low_stock_threshold"))
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "store", "sku", "price", "stock_on_hand", "low_stock_threshold", "allow_backorder",
                    "restock_lead_days", "active")
    list_filter = ("store", "active", "allow_backorder", StockFilter)
    search_fields = ("name", "sku", "description", "store__name")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    actions = ["deactivate", "activate", "record_update"]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Never write the whole row back: a checkout may have taken stock since the form was loaded.
        fields = [name for name in form.changed_data if name != "stock_on_hand"]
        if fields:
            obj.save(update_fields=fields + ["updated_at"])
        if "stock_on_hand" in form.changed_data:
            try:
                stock_set(product=obj, stock_on_hand=form.cleaned_data["stock_on_hand"], actor=request.user)
            except StockError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Record a product update (tells past buyers who agreed to news, and the supplier)…")
    def record_update(self, request, queryset):
        """Intermediate page: what changed and a short note, then catalog.inventory.product_record_update
        per selected product (product.updated through the outbox)."""
        from django.shortcuts import render

        from .inventory import UPDATE_KINDS, InventoryError, product_record_update

        error, kind, note = "", request.POST.get("kind", ""), request.POST.get("note", "").strip()
        if request.POST.get("confirm"):
            try:
                if kind not in UPDATE_KINDS:
                    raise InventoryError("Choose what changed.")
                for product in queryset:
                    product_record_update(product=product, kind=kind, note=note, actor=request.user)
            except InventoryError as exc:
                error = str(exc)
            else:
                self.message_user(request, f"Recorded the update for {queryset.count()} product(s).")
                return None
        return render(request, "admin/catalog/product/record_update.html", {
            **self.admin_site.each_context(request), "title": "Record a product update", "products": queryset,
            "kinds": UPDATE_KINDS, "error": error, "kind": kind, "note": note, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }, status=400 if error else 200)

    @admin.action(description="Deactivate (hide from the shop)")
    def deactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(active=False)} product(s) hidden.")

    @admin.action(description="Activate (show in the shop)")
    def activate(self, request, queryset):
        self.message_user(request, f"{queryset.update(active=True)} product(s) shown.")


@admin.register(BackInStockSubscription)
class BackInStockSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("product", "email", "user", "created_at", "confirmed_at", "notified_at")
    list_filter = ("confirmed_at", "notified_at", "product__store")
    search_fields = ("email", "product__name", "product__sku", "user__username")
    list_select_related = ("product", "user")
    raw_id_fields = ("product", "user")
    readonly_fields = ("created_at", "confirmed_at", "notified_at")


@admin.register(ProductEvent)
class ProductEventAdmin(admin.ModelAdmin):
    """The products' timeline (restocks, counts, low-stock alerts, updates): append-only."""

    list_display = ("created_at", "product", "kind", "stock_before", "stock_after", "actor_label", "note")
    list_filter = ("kind", "created_at", "product__store")
    search_fields = ("product__name", "product__sku", "actor_label", "note")
    list_select_related = ("product",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
