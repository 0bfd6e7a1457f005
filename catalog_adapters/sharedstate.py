"""Making read-modify-write on Django's cache safe across processes, whatever the backend.

Redis (REDIS_URL) gives atomic `add` and `incr`. Django's file cache does not: `incr` is a read then a
write, so concurrent callers lose updates. On the file cache we therefore serialize our few
read-modify-write sections with an OS file lock next to the cache files; that cache is only shared
by the processes of one machine, and so is the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache


@contextlib.contextmanager
def cache_mutex(name: str) -> Iterator[None]:
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        yield
        return
    lock_dir = Path(backend._dir) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
