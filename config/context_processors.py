"""What every page template needs to know about the deployment."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    # The "sandbox shop" tag and the no-real-money footer are true only while the sandbox merchant runs;
    # a production site without it must not tell customers that nothing is really charged.
    return {"shop_name": settings.SHOP_NAME, "sandbox_shop": settings.SANDBOX_MERCHANT_ENABLED}
