"""Escalations (the human-in-the-loop queue): priorities, SLAs, who is told about new escalations, e-mail."""

from config.env import env_bool, env_int, env_list, env_str

# How long support has to resolve (or hand back) an escalation, by priority, counted from when it opened.
ESCALATIONS_SLA_MINUTES = {
    "urgent": env_int("ESCALATIONS_SLA_MINUTES_URGENT", 15),
    "high": env_int("ESCALATIONS_SLA_MINUTES_HIGH", 30),
    "normal": env_int("ESCALATIONS_SLA_MINUTES_NORMAL", 120),
    "low": env_int("ESCALATIONS_SLA_MINUTES_LOW", 480),
}

# The priority an escalation starts with, by reason; staff may change it on the console.
ESCALATIONS_REASON_PRIORITY = {
    # Undoing a failed order failed: stock, a token or money may still be held for the customer.
    "compensation_failed": "urgent",
    # The customer is at checkout, waiting for us.
    "payment_verification": "high",
    "risk_review": "high",
    "merchant_unavailable": "normal",
    "customer_request": "normal",
    "agent_stuck": "low",
}

# The Django group whose members work the queue (the data migration creates it with its permissions).
ESCALATIONS_SUPPORT_GROUP = env_str("ESCALATIONS_SUPPORT_GROUP", "support")
# Where new-escalation e-mails go: these addresses if set (e.g. a team mailbox), otherwise every active
# member of the support group who has an e-mail address.
ESCALATIONS_NOTIFY_EMAILS = env_list("ESCALATIONS_NOTIFY_EMAILS")
ESCALATIONS_NOTIFY_FROM = env_str("ESCALATIONS_NOTIFY_FROM", "ordering-assistant@localhost")
# The console's public address, for links in e-mails (the admin lives under /admin/ there).
ESCALATIONS_CONSOLE_URL = env_str("ESCALATIONS_CONSOLE_URL", "http://localhost:8000").rstrip("/")
# Escalations whose e-mail was lost (a crash between commit and enqueue) are sent by this sweep.
ESCALATIONS_NOTIFY_SWEEP_SECONDS = env_int("ESCALATIONS_NOTIFY_SWEEP_SECONDS", 120)

ESCALATIONS_BEAT_SCHEDULE = {
    "escalations-notify-pending": {
        "task": "escalations.notify_pending",
        "schedule": float(ESCALATIONS_NOTIFY_SWEEP_SECONDS),
    },
}

# Outgoing e-mail (escalation notifications are the first user). Without EMAIL_HOST, messages are
# written to the console log, so a fresh machine needs no mail server.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", ESCALATIONS_NOTIFY_FROM)
