"""HTTP to the service: the key, problem+json errors, retries with one Idempotency-Key, 429 waits."""
from __future__ import annotations

import logging
import time
import uuid

import requests

from bptt_grader.errors import ConnectionFailed, GraderError, RateLimited


logger = logging.getLogger("bptt_grader")


def say(text: str) -> None:
    """The default way the client tells the user it is waiting: a warning of its logger, which an
    unconfigured Python (a notebook, a script) prints on stderr."""
    logger.warning(text)


class Http:
    """One requests.Session with the key; `call` returns the decoded JSON and the response.

    Connection errors and timeouts are retried `retries` times with exponential backoff; a POST
    carries one Idempotency-Key for all its attempts, so a retried submission is graded once.
    429 answers are waited out (Retry-After) when the wait is at most `max_wait` seconds.
    """

    def __init__(self, url: str, key: str | None, *, retries: int = 3, backoff: float = 0.5,
                 max_wait: float = 120.0, timeout: float = 60.0, notify=say):
        self.url = url.rstrip("/")
        self.retries, self.backoff, self.max_wait, self.timeout, self.notify = retries, backoff, max_wait, timeout, notify
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, *, json=None, params=None, idempotency_key: str | None = None):
        headers = {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        url = path if path.startswith("http") else self.url + path
        rate_waits = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(method, url, json=json, params=params, headers=headers,
                                                timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > self.retries:
                    raise ConnectionFailed(self.url, attempt, exc) from exc
                delay = self.backoff * 2 ** (attempt - 1)
                self.notify(f"bptt-grader: {self.url} did not answer ({type(exc).__name__}); "
                            f"retrying in {delay:g} s (attempt {attempt + 1} of {self.retries + 1}).")
                time.sleep(delay)
                continue
            if response.status_code == 429 and rate_waits < 5:
                wait = _retry_after(response)
                if wait is not None and wait <= self.max_wait:
                    rate_waits += 1
                    self.notify(f"bptt-grader: rate limited ({_problem(response).detail}); "
                                f"waiting {wait:g} s as the service asks (Retry-After).")
                    time.sleep(wait)
                    continue
            return _decode(response), response


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _problem(response) -> GraderError:
    """The problem document of an error response (or what can be said without one)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    title = body.get("title") or response.reason or "HTTP error"
    detail = body.get("detail") or ""
    if response.status_code == 429:
        return RateLimited(response.status_code, title, detail, body.get("errors"), _retry_after(response))
    return GraderError(response.status_code, title, detail, body.get("errors"))


def _decode(response):
    if response.status_code >= 400:
        raise _problem(response)
    return response.json() if response.content else None
