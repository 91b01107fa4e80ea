"""The domain errors the service refuses requests with; errors.py renders them as problem+json."""
from __future__ import annotations


class GraderError(Exception):
    """A request the service refuses. Subclasses set status, slug and title."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors=None, headers=None):
        super().__init__(detail)
        self.detail, self.errors, self.headers = detail, errors, headers or {}


class NotFound(GraderError):
    status, slug, title = 404, "not-found", "Not found"


class InvalidRequest(GraderError):
    status, slug, title = 422, "invalid-request", "Invalid request"


class NonFiniteNumber(GraderError):
    status, slug, title = 422, "non-finite-number", "NaN and infinities are not valid JSON numbers"


class InvalidToken(GraderError):
    status, slug, title = 422, "invalid-instance-token", "Invalid instance token"


class ForeignToken(GraderError):
    status, slug, title = 403, "foreign-instance-token", "The instance token belongs to another learner"


class Unauthorized(GraderError):
    status, slug, title = 401, "unauthorized", "Missing or invalid API key"


class Forbidden(GraderError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


class Unavailable(GraderError):
    status, slug, title = 503, "unavailable", "Service unavailable"




class TooManyRequests(GraderError):
    status, slug, title = 429, "rate-limited", "Too many submissions"


class IdempotencyMismatch(GraderError):
    status, slug, title = 422, "idempotency-key-reused", "The Idempotency-Key was used for another request"


class Conflict(GraderError):
    status, slug, title = 409, "conflict", "Conflicts with what is stored"


class PlatformRefused(GraderError):
    status, slug, title = 502, "platform-refused", "The LMS refused the request"
