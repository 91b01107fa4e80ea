"""Service calls to a platform (AGS, NRPS) with OAuth 2 access tokens cached per registration: the
cache key is issuer, client id and scopes, because every hosted Canvas shares one issuer and a token
belongs to the client that asked for it. A 401 invalidates the token and the call is retried once."""
from __future__ import annotations

import hashlib
import threading
import time

from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

EXTENSION = "grader.lti.tokens"


class TokenCache:
    """token key -> (access token, monotonic expiry); kept on the app, shared by its threads."""

    def __init__(self):
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            token, expires = self._tokens.get(key, (None, 0.0))
        return token if token and expires > time.monotonic() else None

    def put(self, key: str, token: str, expires_in: float) -> None:
        with self._lock:  # a minute of margin: a token about to expire is not worth a 401
            self._tokens[key] = (token, time.monotonic() + max(0.0, float(expires_in or 0) - 60))

    def drop(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)


def token_cache(app) -> TokenCache:
    return app.extensions.setdefault(EXTENSION, TokenCache())


class Connector(ServiceConnector):
    """pylti1p3's ServiceConnector with a per-registration token cache and one retry on 401."""

    def __init__(self, registration, cache: TokenCache):
        super().__init__(registration)
        self._cache = cache

    def _scope_key(self, scopes) -> str:
        parts = [self._registration.get_issuer() or "", self._registration.get_client_id() or "", *sorted(scopes)]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str):
        return self._cache.get(scope_key)

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float):
        self._cache.put(scope_key, access_token, expires_in)

    def make_service_request(self, scopes, url, **kwargs):
        try:
            return super().make_service_request(scopes, url, **kwargs)
        except LtiServiceException as exc:
            if exc.response is None or exc.response.status_code != 401:
                raise
        self._cache.drop(self._scope_key(sorted(scopes)))  # revoked or expired early: ask for a new one
        return super().make_service_request(scopes, url, **kwargs)
