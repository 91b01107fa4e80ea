"""API keys cached per worker for a few seconds: looking the key up was a query on every request.

Only keys found and not revoked are cached, as plain snapshots (never session-bound rows), so a new
key works at once. A key revoked in this process is forgotten at once (an ORM event on
ApiKey.revoked_at, which every revocation path sets); the other workers stop accepting it within
the time-to-live (GRADER_KEY_CACHE_TTL_S, default 5 s; 0 turns the cache off). The key is forgotten
again when the revocation commits, in case another thread cached the live row in between.
"""
from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from grader.storage.models import ApiKey

_CACHES: "weakref.WeakSet[KeyCache]" = weakref.WeakSet()
EXTENSION = "grader.keycache"
REVOKED = "grader.keycache.revoked"  # session.info: key ids revoked in the session's transaction


@dataclass(frozen=True)
class CachedKey:
    id: str
    secret_sha256: str
    role: str
    learner: str | None
    course_id: str | None
    revoked_at: None = None  # only live keys are cached


class KeyCache:
    def __init__(self, ttl_s: float, size: int = 10_000):
        self.ttl_s, self.size = ttl_s, size
        self._entries: dict[str, tuple[float, CachedKey]] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, db, key_id: str):
        """The key's snapshot, or the row itself when the cache is off or the key is unknown or revoked."""
        now = time.monotonic()
        entry = self._entries.get(key_id)
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]
        key = db.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None or self.ttl_s <= 0:
            return key
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key_id] = (now, CachedKey(key.id, key.secret_sha256, key.role, key.learner, key.course_id))
        return key

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._entries.pop(key_id, None)


@event.listens_for(ApiKey.revoked_at, "set")
def _revoked(target, value, _old, _initiator):
    """Forget the key now, and again once the revocation is committed: a request of another thread
    may read the still-live row in between and cache it."""
    if value is None:
        return
    _forget(target.id)
    session = object_session(target)
    if session is not None:
        session.info.setdefault(REVOKED, set()).add(target.id)


@event.listens_for(Session, "after_commit")
def _committed(session):
    for key_id in session.info.pop(REVOKED, ()):
        _forget(key_id)


def _forget(key_id: str) -> None:
    for cache in list(_CACHES):
        cache.forget(key_id)


def init_app(app) -> None:
    app.extensions[EXTENSION] = KeyCache(float(app.config["KEY_CACHE_TTL_S"]))
