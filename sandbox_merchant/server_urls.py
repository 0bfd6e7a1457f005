"""The sandbox merchant's own server (DJANGO_ROOT_URLCONF=sandbox_merchant.server_urls).

`make run` starts this as a separate process on its own port (SANDBOX_PORT, 8001 by default): the ACP
API at the root, as a real shop would serve it, and our client reaches it over HTTP at
MERCHANT_SANDBOX_BASE_URL. Its pictures are also served under /sandbox-merchant/images/ on our site.
"""

from django.urls import include, path

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("sandbox_merchant.urls")),
]
