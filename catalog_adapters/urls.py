"""Merchant webhooks received by our app, mounted under /webhooks/merchants/."""

urlpatterns: list = []
