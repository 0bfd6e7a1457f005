"""The built-in sandbox merchant (sandbox_merchant): a real ACP merchant server for demos and tests.

Every value comes from the environment with a safe local default. The defaults are sandbox values
(a known bearer token, a known webhook secret): the sandbox moves no real money and keeps no card
data, but anyone who knows those public values can read its customers, charge their saved cards and
forge its webhooks. Production therefore switches it off unless DEMO_MODE=1, and refuses to start
with these public values (config/checks.py); `manage.py check --deploy` reports them anywhere.
"""

import json

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

SANDBOX_MERCHANT_ENABLED = env_bool("SANDBOX_MERCHANT_ENABLED", True)
# Where its ACP API is served. Normally by its own process on its own port (`make run` starts it with
# DJANGO_ROOT_URLCONF=sandbox_merchant.server_urls), reached over HTTP like any shop; our site then
# serves only the shop's public pages (storefront, product pictures). The test suite sets this so one
# live server answers both sides under /sandbox-merchant/ (still over real HTTP).
SANDBOX_MERCHANT_IN_PROCESS = env_bool("SANDBOX_MERCHANT_IN_PROCESS", False)
# The public development values: fine on a laptop, refused in production (config/checks.py).
SANDBOX_MERCHANT_DEV_API_TOKEN = "sandbox-dev-token"  # noqa: S105 - a published dev value, refused in production
SANDBOX_MERCHANT_DEV_WEBHOOK_SECRET = "sandbox-dev-webhook-secret"  # noqa: S105 - as above
# The merchant id payment tokens must be minted for (allowance.merchant_id).
SANDBOX_MERCHANT_ID = env_str("SANDBOX_MERCHANT_ID", "sandbox")
SANDBOX_MERCHANT_API_TOKENS = env_list("SANDBOX_MERCHANT_API_TOKENS", [SANDBOX_MERCHANT_DEV_API_TOKEN])
# Only the version whose shapes the sandbox speaks: it does not implement 2025-09-29's (items with quantity,
# payment_data{token, provider}), so it neither advertises nor accepts it.
SANDBOX_MERCHANT_API_VERSIONS = ["2026-04-17"]
# Request signing (Signature + Timestamp, sandbox_merchant/signing.py): required when any key is set.
SANDBOX_MERCHANT_SIGNING_KEYS = env_list("SANDBOX_MERCHANT_SIGNING_KEYS", [])

# The card brands its payment handler takes (config.accepted_brands, rfc.payment_handlers §10.4.1, whose enum these
# must be from): a complete paying with a card of another brand is declined. The default is the brands of its test
# cards; a narrower list plays a shop that does not take some of them (docs/sandbox-merchant.md).
_CARD_BRANDS = ("visa", "mastercard", "amex", "discover", "diners", "jcb", "unionpay")
SANDBOX_MERCHANT_ACCEPTED_BRANDS = list(
    dict.fromkeys(brand.lower() for brand in env_list("SANDBOX_MERCHANT_ACCEPTED_BRANDS", ["mastercard", "visa"]))
)
if not SANDBOX_MERCHANT_ACCEPTED_BRANDS or not set(SANDBOX_MERCHANT_ACCEPTED_BRANDS) <= set(_CARD_BRANDS):
    raise ImproperlyConfigured(
        f"SANDBOX_MERCHANT_ACCEPTED_BRANDS must name one or more of {', '.join(_CARD_BRANDS)} "
        f"(comma-separated), not {SANDBOX_MERCHANT_ACCEPTED_BRANDS!r}."
    )
# The locales it answers in (Content-Language, a session's `locale`), the first the default: the one of a request
# whose Accept-Language names none of them (served, not refused). Its texts are English, whatever the locale.
SANDBOX_MERCHANT_LOCALES = env_list("SANDBOX_MERCHANT_LOCALES", ["en-US"])

SANDBOX_MERCHANT_WEBHOOK_URL = env_str(
    "SANDBOX_MERCHANT_WEBHOOK_URL", "http://127.0.0.1:8000/webhooks/merchants/sandbox/"
)
SANDBOX_MERCHANT_WEBHOOK_SECRET = env_str("SANDBOX_MERCHANT_WEBHOOK_SECRET", SANDBOX_MERCHANT_DEV_WEBHOOK_SECRET)
SANDBOX_MERCHANT_WEBHOOK_TIMEOUT_SECONDS = env_int("SANDBOX_MERCHANT_WEBHOOK_TIMEOUT_SECONDS", 5)
SANDBOX_MERCHANT_WEBHOOK_MAX_ATTEMPTS = env_int("SANDBOX_MERCHANT_WEBHOOK_MAX_ATTEMPTS", 8)

SANDBOX_MERCHANT_SESSION_TTL_SECONDS = env_int("SANDBOX_MERCHANT_SESSION_TTL_SECONDS", 30 * 60)
# The wire contract promises keys are kept at least 24 h; the sweeper deletes them after this.
SANDBOX_MERCHANT_IDEMPOTENCY_TTL_SECONDS = max(env_int("SANDBOX_MERCHANT_IDEMPOTENCY_TTL_SECONDS", 48 * 3600), 86400)
# An in-flight key older than this belongs to a request whose process died; a retry may take it over.
SANDBOX_MERCHANT_IN_FLIGHT_STALE_SECONDS = env_int("SANDBOX_MERCHANT_IN_FLIGHT_STALE_SECONDS", 300)
SANDBOX_MERCHANT_PUBLIC_URL = env_str("SANDBOX_MERCHANT_PUBLIC_URL")  # else taken from the request

# Tax by region in basis points (725 = 7.25 %): "COUNTRY-STATE" first, then "COUNTRY"; else no tax.
_DEFAULT_TAX_RATES = {"US-CA": 725, "US-NY": 800, "US-WA": 650, "US": 600, "GB": 2000, "DE": 1900, "FR": 2000}
_tax_rates_json = env_str("SANDBOX_MERCHANT_TAX_RATES_JSON")
try:
    SANDBOX_MERCHANT_TAX_RATES = (
        {key.upper(): int(value) for key, value in json.loads(_tax_rates_json).items()}
        if _tax_rates_json
        else dict(_DEFAULT_TAX_RATES)
    )
except (ValueError, TypeError, AttributeError) as error:
    raise ImproperlyConfigured(
        f'SANDBOX_MERCHANT_TAX_RATES_JSON must be a JSON object like {{"US-CA": 725}}: {error}'
    ) from None

SANDBOX_MERCHANT_FREE_SHIPPING_OVER = env_int("SANDBOX_MERCHANT_FREE_SHIPPING_OVER", 5000)
SANDBOX_MERCHANT_SHIPPING_OPTIONS = [
    {
        "id": "ship_standard",
        "title": "Standard shipping",
        "carrier": "Sandbox Post",
        "amount": env_int("SANDBOX_MERCHANT_STANDARD_SHIPPING_AMOUNT", 599),
        "min_days": 3,
        "max_days": 5,
        # Only standard shipping becomes free over the threshold; express always costs.
        "free_over": SANDBOX_MERCHANT_FREE_SHIPPING_OVER,
    },
    {
        "id": "ship_express",
        "title": "Express shipping",
        "carrier": "Sandbox Express",
        "amount": env_int("SANDBOX_MERCHANT_EXPRESS_SHIPPING_AMOUNT", 1499),
        "min_days": 1,
        "max_days": 2,
        "free_over": None,
    },
]

# Beat runs these only while the sandbox is on: switched off, nothing of it is scheduled.
SANDBOX_MERCHANT_BEAT_SCHEDULE = {
    "sandbox-merchant-expire-sessions": {
        "task": "sandbox_merchant.expire_sessions",
        "schedule": 60.0,
    },
    "sandbox-merchant-resend-stuck-webhooks": {
        "task": "sandbox_merchant.resend_stuck_webhooks",
        "schedule": 300.0,
    },
    "sandbox-merchant-forget-idempotency-keys": {
        "task": "sandbox_merchant.forget_idempotency_keys",
        "schedule": crontab(minute=17),
    },
    "sandbox-merchant-forget-old-received-requests": {
        "task": "sandbox_merchant.forget_old_received_requests",
        "schedule": crontab(hour=3, minute=41),
    },
}
if not SANDBOX_MERCHANT_ENABLED:
    SANDBOX_MERCHANT_BEAT_SCHEDULE = {}
