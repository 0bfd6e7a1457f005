"""Merchants we place orders with (catalog_adapters). Filled in by the merchant integration."""
