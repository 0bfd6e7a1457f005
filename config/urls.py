from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
    path("admin/", admin.site.urls),
    path("sandbox-merchant/", include("catalog_adapters.sandbox.urls")),
    path("webhooks/merchants/", include("catalog_adapters.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[]), name="api-docs"),
    path("api/v1/", include("ordering.urls")),
    path("", include("catalog_adapters.sandbox.storefront")),
    path("", include("consent.urls")),
]
