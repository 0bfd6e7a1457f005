"""The cache: Redis when configured, else files under VAR_DIR (shared by the processes of one machine).

State that several processes must agree on (circuit breakers, our outbound rate limits, DRF throttles)
lives here, so it is shared across web and worker processes and, with Redis, across machines.
"""

from config.env import env_str, var_dir

_redis_url = env_str("CACHE_URL") or env_str("REDIS_URL")

if _redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_url,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ordering"),
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
