from django.apps import AppConfig


class CatalogAdaptersConfig(AppConfig):
    name = "catalog_adapters"
    verbose_name = "Merchant adapters"
