"""Rate limits against answer fishing: fixed-window counters stored in the database, so they hold
across gunicorn workers and restarts, and cost one indexed read per submission plus an upsert in
the submission's own transaction. Fixed windows let a burst straddle two windows (at most twice the
count); concurrent requests at the limit may pass together: both are the usual trade-offs."""
from __future__ import annotations

import time

from sqlalchemy import text

from grader.problems import TooManyRequests

# Plain SQL built once (SQLite >= 3.24 and PostgreSQL share the upsert syntax): building ORM
# statements per request cost more than the queries themselves.
# one statement per number of buckets (an expanding IN is rendered anew on every execution)
READ = {n: text("SELECT bucket, window_start, count FROM rate_counters WHERE bucket IN ("
                + ", ".join(f":b{k}" for k in range(n)) + ")") for n in (1, 2)}
BUMP = text("INSERT INTO rate_counters (bucket, window_start, count) VALUES (:bucket, :window_start, 1) "
            "ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + 1")


def scopes(limits: dict, *, learner: str, exercise_id: str, key_id: str | None, now: float | None = None):
    """(bucket, window start, limit) for every configured scope."""
    now = time.time() if now is None else now
    names = {"learner_exercise": f"le:{learner}\x1f{exercise_id}", "key": f"key:{key_id}" if key_id else None}
    for scope, limit in limits.items():
        if limit and names.get(scope):
            window = int(limit["window_s"])
            yield names[scope], int(now // window) * window, limit


def check(db, limits: dict, **who) -> None:
    """Raise TooManyRequests (429 with Retry-After: the seconds to the next window) when a window is full."""
    now = time.time()
    windows = list(scopes(limits, now=now, **who))
    if not windows:
        return
    buckets = {f"b{k}": bucket for k, (bucket, _, _) in enumerate(windows)}
    counts = {(b, w): n for b, w, n in db.connection().execute(READ[len(buckets)], buckets)}
    for bucket, start, limit in windows:
        if counts.get((bucket, start), 0) >= limit["count"]:
            wait = max(1, int(start + limit["window_s"] - now) + 1)
            what = "for this exercise" if bucket.startswith("le:") else "for this key"
            raise TooManyRequests(f"At most {limit['count']} submissions {what} every {limit['window_s']} s; "
                                  f"try again in {wait} s.", headers={"Retry-After": str(wait)})


def count(db, limits: dict, **who) -> None:
    """Add this submission to its windows, inside the caller's transaction (committed with it)."""
    rows = [{"bucket": bucket, "window_start": start} for bucket, start, _ in scopes(limits, **who)]
    if rows:
        db.connection().execute(BUMP, rows)  # Core: the ORM's execute costs more than the upsert
