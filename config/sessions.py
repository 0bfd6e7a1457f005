"""Sessions read from Redis and written through to PostgreSQL, that keep working while Redis is down.

Production keeps sessions with Django's `cached_db` engine (config/settings/production.py): every
request reads the signed-in session from the cache, and the database holds the truth. Django's engine
already survives a failed cache read (it reads the database) and a failed cache write on save, but not
the cache write that follows that database read, nor the cache lookup when a new session key is made:
during a Redis outage every signed-in request would fail. Here those two fall back to the database too.

Deleting a session (signing out) still needs the cache: a session deleted from the database but left in
Redis would sign its holder back in when Redis returns, so a sign-out during an outage fails (503 on the
API) rather than half-way.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

from config.outages import CACHE_UNAVAILABLE

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # as Django's own: any cache failure means "read the database"
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except CACHE_UNAVAILABLE as error:
            logger.warning("session.cache_unavailable", extra={"operation": "set", "error": repr(error)[:300]})
        return data

    def exists(self, session_key: str) -> bool:
        if not session_key:
            return False
        try:
            if (self.cache_key_prefix + session_key) in self._cache:
                return True
        except CACHE_UNAVAILABLE as error:
            logger.warning("session.cache_unavailable", extra={"operation": "exists", "error": repr(error)[:300]})
        return super(cached_db.SessionStore, self).exists(session_key)
