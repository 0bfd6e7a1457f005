from django.contrib import admin
from django.urls import include, path

from config import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
    path("admin/", admin.site.urls),
    path("sandbox-merchant/", include("catalog_adapters.sandbox.urls")),
    path("webhooks/merchants/", include("catalog_adapters.urls")),
    path("", include("consent.urls")),
]
