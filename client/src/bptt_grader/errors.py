"""What the client raises: the service's problem documents, and failures to reach it."""
from __future__ import annotations


class GraderError(Exception):
    """The service refused a request: its RFC 9457 problem `title` and `detail`, and the status."""

    def __init__(self, status: int, title: str, detail: str = "", errors=None):
        super().__init__(f"{title} (HTTP {status}): {detail}" if detail else f"{title} (HTTP {status})")
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


class RateLimited(GraderError):
    """429 with a Retry-After longer than the client is willing to wait."""

    def __init__(self, status, title, detail="", errors=None, retry_after: float | None = None):
        super().__init__(status, title, detail, errors)
        self.retry_after = retry_after


class ConnectionFailed(GraderError):
    """The service could not be reached after every retry."""

    def __init__(self, url: str, attempts: int, cause: Exception):
        super().__init__(0, "Cannot reach the grading service",
                         f"{url} did not answer after {attempts} attempt(s): {cause}")
        self.attempts, self.cause = attempts, cause


class AnswerError(ValueError):
    """An answer that cannot be sent: NaN or infinity, complex numbers, an unknown type."""
