"""The sandbox merchant in the staff console: read-only views for looking at what clients did.

The sandbox's state changes through its HTTP API (and `seed_sandbox_merchant`); staff look here. The
one exception is the merchant's own side of an order: staff may cancel or refund an order as the shop
would (admin actions on orders), which sends the client an `order_update` webhook with the adjustment.
"""

from django.contrib import admin, messages

from config.admin import ReadOnlyAdminMixin, ReadOnlyInline
from sandbox_merchant import models, services
from sandbox_merchant.errors import SandboxError


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


class VariantInline(ReadOnlyInline):
    model = models.Variant
    readonly_fields = ["id", "sku", "colour", "size", "price_amount", "currency", "stock"]


@admin.register(models.Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "category", "brand", "price_amount", "currency"]
    list_filter = ["category", "brand"]
    search_fields = ["id", "title", "description"]
    inlines = [VariantInline]


@admin.register(models.Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["id", "email", "first_name", "last_name"]


@admin.register(models.Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "percent_off", "amount_off", "customer", "category", "minimum_spend_amount"]


class CheckoutLineInline(ReadOnlyInline):
    model = models.CheckoutLine
    readonly_fields = ["variant", "position", "quantity", "unit_amount", "reserved_quantity"]


@admin.register(models.CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "customer", "quoted_total", "currency", "expires_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["id"]
    inlines = [CheckoutLineInline]


@admin.register(models.VaultToken)
class VaultTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "card", "max_amount", "currency", "checkout_session_id", "expires_at", "used_at"]


class OrderAdjustmentInline(ReadOnlyInline):
    model = models.OrderAdjustment
    readonly_fields = ["type", "amount", "reason", "created_at"]


@admin.register(models.Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "session", "customer", "status", "total_amount", "currency", "created_at"]
    list_filter = ["status"]
    inlines = [OrderAdjustmentInline]
    actions = ["cancel_as_merchant", "refund_in_full_as_merchant"]

    def has_merchant_permission(self, request) -> bool:
        return request.user.has_perm("sandbox_merchant.change_order")

    def _each(self, request, queryset, change, done: str) -> None:
        changed = 0
        for order_id in queryset.values_list("id", flat=True):
            try:
                change(order_id=order_id, reason=f"by the shop (staff {request.user.get_username()})")
                changed += 1
            except SandboxError as error:
                self.message_user(request, f"{order_id}: {error.message}", messages.WARNING)
        if changed:
            self.message_user(request, f"{changed} order(s) {done}; the client is sent an order_update webhook.")

    @admin.action(description="Cancel as the merchant (refunds the rest)", permissions=["merchant"])
    def cancel_as_merchant(self, request, queryset) -> None:
        self._each(request, queryset, services.order_cancel, "canceled")

    @admin.action(description="Refund in full as the merchant", permissions=["merchant"])
    def refund_in_full_as_merchant(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda order_id, reason: services.order_refund(order_id=order_id, amount=None, reason=reason),
            "refunded",
        )


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "order", "status", "attempts", "last_error", "created_at"]
    list_filter = ["status", "event_type"]


@admin.register(models.FaultRule)
class FaultRuleAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "operation", "customer_id", "vault_reference", "times_remaining", "delay_ms"]


@admin.register(models.ReceivedRequest)
class ReceivedRequestAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "method", "path", "status", "trace_id", "idempotency_key", "faults"]
    list_filter = ["method", "status", "operation"]
    search_fields = ["trace_id", "path", "idempotency_key"]
