"""Consent, spend-cap ceilings and step-up (the consent app). See docs/consent.md.

Amounts are integer minor units of CONSENT_CURRENCY (cents for USD). A ceiling is the most a customer
may allow; each customer may choose a lower cap on the settings page. The ceilings, the auto-checkout
ceiling and the step-up window come from the active policy file (policies/, docs/operations.md "Policies";
consent.selectors.spend_cap_ceilings is the one place that reads the ceilings). The variables below are
legacy overrides of those policy values: set to anything but their defaults, they replace them.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str

# Customers sign in here (the consent app's login page); staff use /admin/login/ with OTP.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = env_str("LOGIN_REDIRECT_URL", "/settings/")
LOGOUT_REDIRECT_URL = "/accounts/login/"

CONSENT_CURRENCY = env_str("CONSENT_CURRENCY", "USD").upper()

CONSENT_CAP_CEILINGS = {
    "per_order": env_int("CONSENT_CEILING_PER_ORDER", 50_000),
    "per_day": env_int("CONSENT_CEILING_PER_DAY", 100_000),
    "per_month": env_int("CONSENT_CEILING_PER_MONTH", 300_000),
    "per_session": env_int("CONSENT_CEILING_PER_SESSION", 50_000),
}
# Orders under this may skip the confirm step, when the customer chooses so (0 = always ask).
CONSENT_AUTO_CHECKOUT_CEILING = env_int("CONSENT_AUTO_CHECKOUT_CEILING", 5_000)

# A reservation outlives the payment token (15 min) and the merchant's stock hold, so a flow that is
# still placing never loses its reservation; an abandoned one stops counting after this.
CONSENT_RESERVATION_TTL_SECONDS = env_int("CONSENT_RESERVATION_TTL_SECONDS", 30 * 60)

# Risky flows require a TOTP verification no older than this.
CONSENT_STEPUP_WINDOW_MINUTES = env_int("CONSENT_STEPUP_WINDOW_MINUTES", 10)

# E-mails telling a customer that a card, an address or an authenticator was added to their account:
# the sender, the site address their "sign in and check" link points at, and how often the sweep sends
# notices whose task was lost (a crash between commit and enqueue).
CONSENT_NOTICE_FROM = env_str("CONSENT_NOTICE_FROM", env_str("DEFAULT_FROM_EMAIL", "ordering-assistant@localhost"))
CONSENT_SITE_URL = env_str("CONSENT_SITE_URL", "http://localhost:8000").rstrip("/")
CONSENT_NOTICE_SWEEP_SECONDS = env_int("CONSENT_NOTICE_SWEEP_SECONDS", 120)

for _name, _value in [
    *((f"CONSENT_CEILING_{kind.upper()}", value) for kind, value in CONSENT_CAP_CEILINGS.items()),
    ("CONSENT_AUTO_CHECKOUT_CEILING", CONSENT_AUTO_CHECKOUT_CEILING),
]:
    if _value < 0:
        raise ImproperlyConfigured(f"{_name}={_value} must be zero or more (minor units of {CONSENT_CURRENCY}).")
for _name, _value in [
    ("CONSENT_RESERVATION_TTL_SECONDS", CONSENT_RESERVATION_TTL_SECONDS),
    ("CONSENT_STEPUP_WINDOW_MINUTES", CONSENT_STEPUP_WINDOW_MINUTES),
]:
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
if len(CONSENT_CURRENCY) != 3 or not CONSENT_CURRENCY.isalpha():
    raise ImproperlyConfigured(f"CONSENT_CURRENCY={CONSENT_CURRENCY!r} must be an ISO 4217 code such as USD.")

CONSENT_BEAT_SCHEDULE = {
    # Expired reservations already stop counting; this writes their release rows so the ledger says so.
    "consent-release-expired-reservations": {
        "task": "consent.release_expired_reservations",
        "schedule": float(env_int("CONSENT_RELEASE_EXPIRED_EVERY_SECONDS", 60)),
    },
    "consent-send-pending-security-notices": {
        "task": "consent.security_notices_send_pending",
        "schedule": float(CONSENT_NOTICE_SWEEP_SECONDS),
    },
}
