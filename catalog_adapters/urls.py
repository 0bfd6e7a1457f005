"""Merchant webhooks received by our app, mounted under /webhooks/merchants/."""

from django.urls import path

from catalog_adapters import api

app_name = "merchant_webhooks"

urlpatterns = [
    path("<slug:merchant_id>/", api.merchant_webhook, name="receive"),
]
