"""Dangerous production configurations: refused by config/settings/production.py at start-up, and
reported by `manage.py check --deploy` under any settings.

The built-in sandbox merchant ships with a published bearer token and webhook secret. Anyone who
knows them can read its customers, charge their saved cards to any address, cancel orders, inject
faults, and forge the webhooks we accept from it. So a deployment may run it with those values, or
make it the default merchant, only when it says it is a public demo (DEMO_MODE=1).

Every merchant needs its bearer token and webhook secret, and is reached over HTTPS: a merchant without them
fails every order at run time (or accepts its webhooks from nobody), and over plain HTTP its token, the
customers' payment tokens and addresses cross the network readable. Refused the same way.

Behind the load balancer, a deployment that does not trust it for the client's address
(TRUSTED_PROXY_COUNT) counts every client's failed sign-ins against one address: a warning. So is an
ALLOWED_HOSTS of "*" (any Host header accepted) and a CONSENT_SITE_URL that is not the shop's https address.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.core.checks import Error, Tags, Warning, register

SANDBOX_MERCHANT_ID = "sandbox"
DEMO_HINT = "or DEMO_MODE=1 if this deployment is a public demo of the sandbox shop that moves no real money"


def sandbox_exposure_problems(
    *,
    sandbox_enabled: bool,
    sandbox_api_tokens: list[str],
    sandbox_webhook_secret: str,
    dev_api_token: str,
    dev_webhook_secret: str,
    merchants: dict[str, dict],
    default_merchant_id: str,
) -> list[str]:
    """Each problem says what is wrong and exactly which variable to set."""
    problems: list[str] = []
    if sandbox_enabled and dev_api_token in sandbox_api_tokens:
        problems.append(
            f"The sandbox merchant is on and accepts its public dev bearer token {dev_api_token!r}. "
            "Set SANDBOX_MERCHANT_ENABLED=0 (a real shop needs no sandbox), or set SANDBOX_MERCHANT_API_TOKENS "
            f"to a random token of your own, {DEMO_HINT}."
        )
    if sandbox_enabled and sandbox_webhook_secret == dev_webhook_secret:
        problems.append(
            f"The sandbox merchant is on and signs its webhooks with the public dev secret {dev_webhook_secret!r}. "
            "Set SANDBOX_MERCHANT_ENABLED=0, or set SANDBOX_MERCHANT_WEBHOOK_SECRET to a random secret of your own, "
            f"{DEMO_HINT}."
        )
    client = merchants.get(SANDBOX_MERCHANT_ID)
    # The client side of the sandbox can be kept (MERCHANT_SANDBOX_ENABLED=1) with the app off.
    if (
        client is not None
        and not sandbox_enabled
        and (client.get("TOKEN") == dev_api_token or client.get("WEBHOOK_SECRET") == dev_webhook_secret)
    ):
        problems.append(
            "The merchant 'sandbox' is configured with the public dev token or webhook secret, so anyone can "
            "forge its webhooks. Set MERCHANT_SANDBOX_ENABLED=0, or set MERCHANT_SANDBOX_TOKEN and "
            f"MERCHANT_SANDBOX_WEBHOOK_SECRET to values of your own, {DEMO_HINT}."
        )
    if default_merchant_id == SANDBOX_MERCHANT_ID:
        problems.append(
            "DEFAULT_MERCHANT_ID is 'sandbox', the built-in demo merchant. Declare your merchant "
            "(MERCHANT_<ID>_BASE_URL, MERCHANT_<ID>_TOKEN, MERCHANT_<ID>_WEBHOOK_SECRET) and set "
            f"DEFAULT_MERCHANT_ID=<id>, {DEMO_HINT}."
        )
    return problems


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def merchant_problems(*, merchants: dict[str, dict], demo_mode: bool) -> list[str]:
    """Each declared merchant's missing secret or plain-HTTP address, naming the variable to set."""
    problems: list[str] = []
    for merchant_id, config in sorted(merchants.items()):
        prefix = f"MERCHANT_{merchant_id.upper()}"
        if not config.get("TOKEN"):
            problems.append(
                f"{prefix}_TOKEN is not set: every request to the merchant {merchant_id!r} goes without its bearer "
                f"token and is refused, so no order can be placed there. Set {prefix}_TOKEN to the API key the "
                "merchant gave you."
            )
        if not config.get("WEBHOOK_SECRET"):
            problems.append(
                f"{prefix}_WEBHOOK_SECRET is not set: every order webhook and 3-D Secure result from the merchant "
                f"{merchant_id!r} is refused, so customers are never told that an order shipped or was canceled and "
                f"no bank verification completes. Set {prefix}_WEBHOOK_SECRET to the signing secret the merchant "
                "gave you."
            )
        url = urlsplit(config.get("BASE_URL", ""))
        # A demo's sandbox moves no money; a merchant on this machine is never on the network.
        exempt = config.get("ALLOW_HTTP") or (demo_mode and config.get("SANDBOX")) or _loopback(url.hostname or "")
        if url.scheme == "http" and not exempt:
            problems.append(
                f"{prefix}_BASE_URL={config['BASE_URL']!r} is plain HTTP: the bearer token, customers' payment "
                f"tokens and shipping addresses would cross the network unencrypted. Use https://, or set "
                f"{prefix}_ALLOW_HTTP=1 if the merchant is reached only over a private network you trust."
            )
    return problems


def merchant_problems_from(settings) -> list[str]:
    return merchant_problems(merchants=settings.MERCHANTS, demo_mode=getattr(settings, "DEMO_MODE", False))


def sandbox_exposure_problems_from(settings) -> list[str]:
    return sandbox_exposure_problems(
        sandbox_enabled=settings.SANDBOX_MERCHANT_ENABLED,
        sandbox_api_tokens=list(settings.SANDBOX_MERCHANT_API_TOKENS),
        sandbox_webhook_secret=settings.SANDBOX_MERCHANT_WEBHOOK_SECRET,
        dev_api_token=settings.SANDBOX_MERCHANT_DEV_API_TOKEN,
        dev_webhook_secret=settings.SANDBOX_MERCHANT_DEV_WEBHOOK_SECRET,
        merchants=settings.MERCHANTS,
        default_merchant_id=settings.DEFAULT_MERCHANT_ID,
    )


@register(Tags.security, deploy=True)
def check_production_defaults(app_configs, **kwargs) -> list:
    from django.conf import settings

    messages: list = []
    problems = sandbox_exposure_problems_from(settings)
    if getattr(settings, "DEMO_MODE", False):
        messages.append(
            Warning(
                "DEMO_MODE is on: the sandbox merchant may run with its public dev token and secret and be the "
                "default merchant. Anyone who knows them can read its customers and place or cancel its orders.",
                hint="Unset DEMO_MODE for any deployment that serves real customers.",
                id="config.W001",
            )
        )
    else:
        messages.extend(Error(problem, id="config.E001") for problem in problems)
    messages.extend(Error(problem, id="config.E003") for problem in merchant_problems_from(settings))
    if not getattr(settings, "METRICS_BEARER_TOKEN", ""):
        messages.append(
            Error(
                "/metrics is served without authentication.",
                hint="Set METRICS_BEARER_TOKEN and configure Prometheus to send Authorization: Bearer <token>.",
                id="config.E002",
            )
        )
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and getattr(settings, "TRUSTED_PROXY_COUNT", 0) <= 0:
        messages.append(
            Warning(
                "The app runs behind a proxy (SECURE_PROXY_SSL_HEADER is set) but TRUSTED_PROXY_COUNT is 0, so "
                "every client has the proxy's address: five failed sign-ins from anyone lock everyone out, and "
                "the audit log records the proxy's address instead of the client's.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of the app that append to "
                "X-Forwarded-For (1 for a single load balancer), and let no request reach the app around them.",
                id="config.W002",
            )
        )
    if not settings.DEBUG and settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
        messages.append(
            Warning(
                "E-mail is written to the console log (EMAIL_HOST is not set): customers' notices that a card, "
                "address or authenticator was added to their account and staff's escalation notifications are "
                "never delivered, and their recipients and contents land in the logs.",
                hint="Set EMAIL_HOST (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) and DEFAULT_FROM_EMAIL.",
                id="config.W003",
            )
        )
    site = urlsplit(getattr(settings, "CONSENT_SITE_URL", ""))
    if not settings.DEBUG and (_loopback(site.hostname or "") or not site.hostname or site.scheme != "https"):
        messages.append(
            Warning(
                f"CONSENT_SITE_URL is {settings.CONSENT_SITE_URL!r}: the e-mail telling a customer that a card, "
                "address or authenticator was added to their account tells them to sign in there if it was not them.",
                hint="Set CONSENT_SITE_URL to the shop's public https address, e.g. https://shop.example.",
                id="config.W004",
            )
        )
    if "*" in getattr(settings, "ALLOWED_HOSTS", []) and not settings.DEBUG:
        messages.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, so addresses built from the request (the "
                "3-D Secure return address sent to the merchant) name whatever host a request claims, and a shared "
                "cache in front of the site can be poisoned with such answers.",
                hint="List the shop's own host names in ALLOWED_HOSTS (probes and scrapes of /healthz, /readyz and "
                "/metrics are answered whatever host they name).",
                id="config.W005",
            )
        )
    return messages
