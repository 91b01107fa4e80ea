"""pylti1p3 launch data kept in the database: the launch POST comes cross-site, where the page
session cookie (SameSite=Lax) is not sent, so state, nonce and launch claims cannot live in it.
Nonces are single-use: checking one consumes it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pylti1p3.launch_data_storage.cache import CacheDataStorage
from sqlalchemy import delete

from grader import storage
from grader.storage.models import LtiLaunchData


class _Table:
    """The cache interface pylti1p3 expects (get, set), on the lti_launch_data table."""

    def __init__(self, app):
        self.app = app

    def get(self, key):
        row = storage.session(self.app).get(LtiLaunchData, key)
        if row is None or _aware(row.expires_at) < datetime.now(timezone.utc):
            return None
        return row.value

    def set(self, key, value, exp=None):
        db = storage.session(self.app)
        expires = datetime.now(timezone.utc) + timedelta(seconds=exp or 7200)
        db.merge(LtiLaunchData(key=key, value=value, expires_at=expires))
        db.commit()

    def take(self, key) -> bool:
        """Delete the key; True when this call is the one that removed a live value."""
        db = storage.session(self.app)
        live = self.get(key) is not None
        removed = db.execute(delete(LtiLaunchData).where(LtiLaunchData.key == key)).rowcount
        db.commit()
        return live and removed == 1


class DbLaunchDataStorage(CacheDataStorage):
    def __init__(self, app):
        super().__init__()
        self._cache = _Table(app)

    def check_value(self, key: str) -> bool:
        prepared = self._prepare_key(key)
        if "nonce" in key:
            return self._cache.take(prepared)  # a nonce is good for one launch only
        return self._cache.get(prepared) is not None


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
