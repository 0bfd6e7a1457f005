"""config.redis_cache: Django's Redis cache, with one client object per pool instead of one per operation."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import redis

from config.redis_cache import RedisCache

pytestmark = pytest.mark.redis


def _cache(**options: object) -> RedisCache:
    return RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": f"t-{uuid.uuid4().hex}", "OPTIONS": options})


def test_the_settings_use_this_backend_when_redis_is_configured() -> None:
    from django.core.cache import caches

    assert isinstance(caches["default"], RedisCache)


def test_every_operation_reuses_one_client_built_around_djangos_pool() -> None:
    cache = _cache(socket_timeout=2)
    first = cache._cache.get_client("a")
    assert isinstance(first, redis.Redis)
    assert cache._cache.get_client("b", write=True) is first
    assert first.connection_pool is cache._cache._get_connection_pool(write=False)
    # The options still reach the pool, as with Django's own backend.
    assert first.connection_pool.connection_kwargs["socket_timeout"] == 2


def test_values_round_trip_and_expire_as_with_djangos_backend() -> None:
    cache = _cache()
    cache.set("greeting", {"text": "hi", "n": 3}, timeout=30)
    assert cache.get("greeting") == {"text": "hi", "n": 3}
    assert cache.add("greeting", "other") is False
    assert cache.add("counter", 1) is True
    assert cache.incr("counter") == 2
    assert cache.get("counter") == 2
    cache.set("gone", 1, timeout=0)
    assert cache.get("gone") is None
    cache.delete_many(["greeting", "counter"])
    assert cache.get_many(["greeting", "counter"]) == {}


def test_threads_share_the_client_and_each_sees_its_own_values() -> None:
    cache = _cache()
    seen: dict[int, object] = {}
    clients: set[int] = set()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(50):
                cache.set(f"k{n}", n)
                seen[n] = cache.get(f"k{n}")
            clients.add(id(cache._cache.get_client()))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == {n: n for n in range(8)}
    assert len(clients) == 1
