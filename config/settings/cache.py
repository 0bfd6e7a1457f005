"""The cache: Redis when configured, else files under VAR_DIR (shared by the processes of one machine).

State that several processes must agree on (circuit breakers, our outbound rate limits, DRF throttles)
lives here, so it is shared across web and worker processes and, with Redis, across machines. The
merchant path (catalog_adapters.sharedstate) talks to the same Redis with one client per process and
one round trip per operation, with a short socket timeout: a slow Redis must not hold a turn.
"""

from config.env import env_int, env_redis_url, env_str, var_dir

_redis_url = env_redis_url("CACHE_URL") or env_redis_url("REDIS_URL")
_key_prefix = env_str("CACHE_KEY_PREFIX", "ordering")

if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": _key_prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(var_dir() / "cache"),
        }
    }

# Breaker and rate-budget state of the merchant path: this Redis, or (empty) the file cache above.
MERCHANT_SHARED_STATE_URL = _redis_url or ""
MERCHANT_SHARED_STATE_PREFIX = _key_prefix
MERCHANT_SHARED_STATE_TIMEOUT = env_int("MERCHANT_SHARED_STATE_TIMEOUT_MS", 500) / 1000
