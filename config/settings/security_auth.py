"""Sign-in abuse: failed attempts are counted per username and per address (django-axes), and
starting conversations is rate-limited per customer like turns are."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username or address is refused before any password is checked.
    "config.sign_in.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Failures (a wrong password, or at /admin/login/ a wrong authenticator code) before a lockout. A
# username and an address are counted apart: either reaching the limit locks it, so one address cannot
# try many usernames and many addresses cannot hammer one username.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
SIGN_IN_LOCKOUT_MINUTES = env_int("SIGN_IN_LOCKOUT_MINUTES", 15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failures older than this are forgotten, and a lockout ends this long after the failure that caused it.
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
# Attempts during a lockout are refused without extending it, so the minutes we promise hold.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A correct sign-in clears that username's failures only (config.sign_in.sign_in_clears_own_failures).
# Axes' own reset also deletes every failure from the address, whichever username they named, so signing
# in to one's own account between guesses at someone else's would allow unlimited guessing.
AXES_RESET_ON_SUCCESS = False
AXES_HTTP_RESPONSE_CODE = 429
AXES_COOLOFF_MESSAGE = f"Too many failed sign-in attempts; try again in {SIGN_IN_LOCKOUT_MINUTES} minutes."
# The sign-in page itself, with that message, instead of a bare text page.
AXES_LOCKOUT_CALLABLE = "config.sign_in.sign_in_locked_out"
# How many proxies in front of the app append the address they received a request from to
# X-Forwarded-For (1 for the production load balancer). 0: the client is REMOTE_ADDR and X-Forwarded-For
# is ignored. N: the client is the Nth entry from the right; entries left of it, which the client wrote,
# are never read. Only correct when the app cannot be reached except through those proxies.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} is negative; set it to the number of proxies in front of "
        "the app (0 for none, 1 for a single load balancer)."
    )
# The client's address, the audit log's, so lockouts and the log always agree (config/client_ip.py).
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
# Successful sign-ins are in the audit log already; axes keeps only the failure counters.
AXES_DISABLE_ACCESS_LOG = True
# Axes keeps the POSTed form of a failed attempt; never with a password or a code in it.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]

# New conversations per customer (POST /api/v1/conversations/), a DRF rate such as "10/min".
ORDERING_CONVERSATIONS_RATE = env_str("ORDERING_CONVERSATIONS_RATE", "10/min")

# The staff console never shows an existing authenticator's secret or QR code again (enrol anew instead).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
