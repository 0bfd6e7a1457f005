import logging

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").strip().upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json").strip().lower()  # "json" for machines, "text" for a terminal

# Checked here: logging.config would refuse a level with "Unable to configure logger 'celery'", and any format
# but "json" gave human-readable lines that a log store expecting JSON cannot parse, without a word.
if LOG_LEVEL not in logging.getLevelNamesMapping():
    raise ImproperlyConfigured(
        f"LOG_LEVEL={env_str('LOG_LEVEL')!r} is not a level; use DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={env_str('LOG_FORMAT')!r} is not a format; use json or text.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"trace_id": {"()": "config.tracing.TraceIdLogFilter"}},
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(trace_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["trace_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request log line of config.tracing replaces Django's own per-request lines.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
        # django-axes says hello on every process start at INFO; its lockouts (WARNING) still show, and
        # the audit log has every sign-in event.
        "axes": {"level": "WARNING"},
    },
}
