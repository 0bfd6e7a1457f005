"""Merchants we place orders with (catalog_adapters.registry reads `MERCHANTS`).

A merchant is configuration, not code: every `MERCHANT_<ID>_BASE_URL` in the environment declares
merchant `<id>` (lower-cased), and its other values come from `MERCHANT_<ID>_<KNOB>`:

    MERCHANT_ACME_BASE_URL=https://acme.example/acp     (required: declares the merchant)
    MERCHANT_ACME_TOKEN=...                             bearer token for its API
    MERCHANT_ACME_API_VERSION=2026-04-17                ACP version we speak to it
    MERCHANT_ACME_WEBHOOK_SECRET=...                    verifies its signed order webhooks
    MERCHANT_ACME_CONNECT_TIMEOUT / _READ_TIMEOUT       seconds (3.05 / 10)
    MERCHANT_ACME_MAX_ATTEMPTS                          requests per logical call, retries included (3)
    MERCHANT_ACME_BACKOFF_BASE / _BACKOFF_CAP           seconds of exponential backoff (0.25 / 4)
    MERCHANT_ACME_RETRY_AFTER_CAP                       longest Retry-After we wait inside a call (5)
    MERCHANT_ACME_BREAKER_THRESHOLD / _BREAKER_COOLDOWN consecutive failures to open / seconds open (5 / 30)
    MERCHANT_ACME_RATE_LIMIT                            its allowance: our requests/s to it, all processes (100)
    MERCHANT_ACME_RATE_LIMIT_BURST                      requests at once after a quiet spell (default: the rate)
    MERCHANT_ACME_RATE_LIMIT_LEASE                      most tokens a process takes per shared-budget round trip
                                                        (default: a tenth of the rate)
    MERCHANT_ACME_RATE_LIMIT_MAX_WAIT                   longest a call queues for a token before failing (2)
    MERCHANT_ACME_SIGNING_KEY=...                       signs our requests (Signature/Timestamp); empty: unsigned
    MERCHANT_ACME_CAPABILITIES                          comma list of catalog,checkout,vault,orders
    MERCHANT_ACME_ALLOW_HTTP=1                          production accepts a plain http:// BASE_URL that is not on
                                                        this machine (a private network you trust); default: refused

The payment handler is not configured: it is negotiated per session (the merchant's
capabilities.payment.handlers; catalog_adapters.contract.SUPPORTED_PAYMENT_HANDLERS).

The built-in sandbox merchant is always present as `sandbox` (pointing at its own server,
http://127.0.0.1:8001, with the sandbox's dev token and webhook secret) unless MERCHANT_SANDBOX_BASE_URL
overrides it or MERCHANT_SANDBOX_ENABLED=0 (or SANDBOX_MERCHANT_ENABLED=0) removes it.
"""

from __future__ import annotations

import os
import re

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_list, env_str
from config.settings.sandbox_merchant import SANDBOX_MERCHANT_DEV_API_TOKEN, SANDBOX_MERCHANT_DEV_WEBHOOK_SECRET

_DECLARATION = re.compile(r"^MERCHANT_([A-Z0-9][A-Z0-9_]*?)_BASE_URL$")

# Defaults shared by every merchant; a MERCHANT_<ID>_<KNOB> variable overrides one of them.
_FLOAT_KNOBS = {
    "CONNECT_TIMEOUT": 3.05,
    "READ_TIMEOUT": 10.0,
    "BACKOFF_BASE": 0.25,
    "BACKOFF_CAP": 4.0,
    "RETRY_AFTER_CAP": 5.0,
    "BREAKER_COOLDOWN": 30.0,
    # 100/s: the usual allowance of commerce APIs (Stripe's default live-mode limit is 100 requests/s); an
    # add-to-cart turn makes at most 2 calls, so this is ~50 turns/s, above what a 2-core deployment serves.
    # A merchant that allows less (or more) says so in MERCHANT_<ID>_RATE_LIMIT; 0 switches our limit off.
    "RATE_LIMIT": 100.0,
    "RATE_LIMIT_BURST": 0.0,  # 0: the rate (a bucket holding one second of allowance)
    "RATE_LIMIT_MAX_WAIT": 2.0,
}
_INT_KNOBS = {"MAX_ATTEMPTS": 3, "BREAKER_THRESHOLD": 5, "RATE_LIMIT_LEASE": 0}  # lease 0: a tenth of the rate
_STR_KNOBS = {
    "TOKEN": "",
    "API_VERSION": "2026-04-17",
    "WEBHOOK_SECRET": "",
    "SIGNING_KEY": "",
    "CAPABILITIES": "catalog,checkout,vault,orders",
}

# The sandbox merchant's dev defaults (see config/settings/sandbox_merchant.py, which accepts them).
# Read from the same variables the sandbox reads, so setting its token or secret keeps both sides in step.
_SANDBOX_DEFAULTS = {
    "BASE_URL": "http://127.0.0.1:8001",
    "TOKEN": (env_list("SANDBOX_MERCHANT_API_TOKENS") or [SANDBOX_MERCHANT_DEV_API_TOKEN])[0],
    "WEBHOOK_SECRET": env_str("SANDBOX_MERCHANT_WEBHOOK_SECRET", SANDBOX_MERCHANT_DEV_WEBHOOK_SECRET),
    # The sandbox checks request signatures with any of its keys when it has some; we sign with the first.
    "SIGNING_KEY": (env_list("SANDBOX_MERCHANT_SIGNING_KEYS") or [""])[0],
    # Takes no real payments: the only kind of merchant that may take orders in rollout phase 0.
    "SANDBOX": True,
}


def _knob(prefix: str, name: str, default, cast):
    variable = f"{prefix}_{name}"
    raw = os.environ.get(variable)
    if raw is None or raw.strip() == "":
        return default
    try:
        return cast(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{variable}={raw!r} is not a valid {cast.__name__}.") from None


def merchant_from_env(merchant_id: str, defaults: dict | None = None) -> dict:
    """One merchant's settings: MERCHANT_<ID>_* over `defaults` over the shared defaults."""
    prefix = f"MERCHANT_{merchant_id.upper()}"
    defaults = defaults or {}
    config = {"ID": merchant_id, "BASE_URL": _knob(prefix, "BASE_URL", defaults.get("BASE_URL", ""), str)}
    for name, default in _STR_KNOBS.items():
        config[name] = _knob(prefix, name, defaults.get(name, default), str)
    for name, default in _FLOAT_KNOBS.items():
        config[name] = _knob(prefix, name, defaults.get(name, default), float)
    for name, default in _INT_KNOBS.items():
        config[name] = _knob(prefix, name, defaults.get(name, default), int)
    if not config["BASE_URL"].startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{prefix}_BASE_URL={config['BASE_URL']!r} must be an http(s) URL.")
    if min(config["RATE_LIMIT"], config["RATE_LIMIT_BURST"], config["RATE_LIMIT_LEASE"]) < 0:
        raise ImproperlyConfigured(f"{prefix}_RATE_LIMIT, _RATE_LIMIT_BURST and _RATE_LIMIT_LEASE cannot be negative.")
    if config["MAX_ATTEMPTS"] < 1 or config["BREAKER_THRESHOLD"] < 1:
        raise ImproperlyConfigured(f"{prefix}_MAX_ATTEMPTS and {prefix}_BREAKER_THRESHOLD must be at least 1.")
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    # MERCHANT_<ID>_SANDBOX=1: a test merchant taking no real payments (rollout phase 0 orders only there).
    config["SANDBOX"] = env_bool(f"{prefix}_SANDBOX", bool(defaults.get("SANDBOX", False)))
    config["CAPABILITIES"] = [item.strip() for item in config["CAPABILITIES"].split(",") if item.strip()]
    # Production refuses an http:// merchant off this machine unless this says so (config/checks.py).
    config["ALLOW_HTTP"] = env_bool(f"{prefix}_ALLOW_HTTP", False)
    return config


def merchants_from_env() -> dict[str, dict]:
    merchants: dict[str, dict] = {}
    if env_bool("MERCHANT_SANDBOX_ENABLED", env_bool("SANDBOX_MERCHANT_ENABLED", True)):
        merchants["sandbox"] = merchant_from_env("sandbox", _SANDBOX_DEFAULTS)
    for variable in sorted(os.environ):
        match = _DECLARATION.match(variable)
        if match and match.group(1) != "SANDBOX":
            merchant_id = match.group(1).lower()
            merchants[merchant_id] = merchant_from_env(merchant_id)
    return merchants


MERCHANTS = merchants_from_env()
DEFAULT_MERCHANT_ID = env_str("DEFAULT_MERCHANT_ID", "sandbox")
if MERCHANTS and DEFAULT_MERCHANT_ID not in MERCHANTS:
    raise ImproperlyConfigured(
        f"DEFAULT_MERCHANT_ID={DEFAULT_MERCHANT_ID!r} names no configured merchant (have: {', '.join(MERCHANTS)})."
    )

# How far a webhook's signed timestamp may be from our clock before we refuse it as stale (seconds).
MERCHANT_WEBHOOK_TOLERANCE_SECONDS = 300
