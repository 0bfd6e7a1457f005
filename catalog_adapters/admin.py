"""The staff console for merchant webhooks: read-only, they are facts merchants told us."""

from django.contrib import admin

from catalog_adapters.models import MerchantWebhookEvent
from config.admin import ReadOnlyAdminMixin


@admin.register(MerchantWebhookEvent)
class MerchantWebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[MerchantWebhookEvent]):
    list_display = (
        "received_at",
        "merchant_id",
        "event_type",
        "order_id",
        "order_status",
        "deliveries",
        "processed_at",
        "outcome",
    )
    list_filter = ("merchant_id", "event_type", "order_status", "outcome")
    search_fields = ("order_id", "dedupe_key", "trace_id", "request_id")
    readonly_fields = [field.name for field in MerchantWebhookEvent._meta.fields]
