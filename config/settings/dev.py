"""Local development: `make run` and `manage.py` without DJANGO_SETTINGS_MODULE."""

import os

# DEBUG must be known before base decides whether the development SECRET_KEY may be used.
os.environ.setdefault("DEBUG", "1")

from config.settings.base import *  # noqa: F403
