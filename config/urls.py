from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from config import health, metrics

# Under /api/ these answer JSON in the API's error shape (a 503 with Retry-After when a dependency is
# down); every other page keeps Django's HTML error pages (config/error_views.py).
handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
    path("admin/", admin.site.urls),
    path("webhooks/merchants/", include("catalog_adapters.urls")),
    # The API's description is for signed-in users: the schema answers 403 to anyone else, the page
    # sends them to sign in. The split view serves Swagger UI's start-up script as a file (no inline
    # script), so the page runs under the site's Content-Security-Policy.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="api-schema"),
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[IsAuthenticated])
        ),
        name="api-docs",
    ),
    path("api/v1/", include("ordering.urls")),
]

if settings.SANDBOX_MERCHANT_ENABLED:
    urlpatterns += [
        # The API on this site only when asked (the test suite); otherwise just the shop's pictures here,
        # and the API from the sandbox's own process (sandbox_merchant/server_urls.py).
        path(
            "sandbox-merchant/",
            include("sandbox_merchant.urls" if settings.SANDBOX_MERCHANT_IN_PROCESS else "sandbox_merchant.shop_urls"),
        ),
        path("", include("sandbox_merchant.storefront")),
    ]
else:
    # No sandbox, no shop: a real shop embeds the widget in its own pages, and `/` here is the
    # customer's settings page (which asks them to sign in first).
    urlpatterns += [path("", RedirectView.as_view(pattern_name="consent-settings"), name="storefront")]

urlpatterns += [path("", include("consent.urls"))]
