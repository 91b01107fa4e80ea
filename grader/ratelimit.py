"""Rate limits against answer fishing: fixed-window counters stored in the database, so they hold
across gunicorn workers and restarts. A submission's own upsert, in its transaction, returns the
windows' counts: one that passes a limit takes its counts back and is refused, so concurrent
requests at the limit cannot pass together. Code submissions are also checked before they run (one
indexed read), so a refused one costs no sandbox job. Fixed windows let a burst straddle two windows
(at most twice the count): the usual trade-off."""
from __future__ import annotations

import time

from sqlalchemy import text

from grader.problems import TooManyRequests
from grader.storage.prepared import Cursor, Prepared

# Plain SQL built once, one statement per number of buckets (SQLite >= 3.35 and PostgreSQL share
# the upsert and RETURNING syntax): building ORM statements per request cost more than the queries.
READ = {n: text("SELECT bucket, window_start, count FROM rate_counters WHERE bucket IN ("
                + ", ".join(f":b{k}" for k in range(n)) + ")") for n in (1, 2)}
BUMP = {n: Prepared(text("INSERT INTO rate_counters (bucket, window_start, count) VALUES "
                + ", ".join(f"(:b{k}, :w{k}, 1)" for k in range(n))
                + " ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + 1"
                  " RETURNING bucket, count")) for n in (1, 2)}


def scopes(limits: dict, *, learner: str, exercise_id: str, key_id: str | None, now: float | None = None):
    """(bucket, window start, limit) for every configured scope."""
    now = time.time() if now is None else now
    names = {"learner_exercise": f"le:{learner}\x1f{exercise_id}", "key": f"key:{key_id}" if key_id else None}
    for scope, limit in limits.items():
        if limit and names.get(scope):
            window = int(limit["window_s"])
            yield names[scope], int(now // window) * window, limit


def check(db, limits: dict, **who) -> None:
    """Raise TooManyRequests (429 with Retry-After: the seconds to the next window) when a window is
    already full: before work that costs (a sandbox job)."""
    now = time.time()
    windows = list(scopes(limits, now=now, **who))
    if not windows:
        return
    buckets = {f"b{k}": bucket for k, (bucket, _, _) in enumerate(windows)}
    counts = {(b, w): n for b, w, n in db.connection().execute(READ[len(buckets)], buckets)}
    for bucket, start, limit in windows:
        if counts.get((bucket, start), 0) >= limit["count"]:
            raise _refusal(bucket, start, limit, now)


# a refused submission takes its counts back: a transaction shared with others (storage.group_commit)
# cannot roll back for it, and its counts are its only writes so far
UNBUMP = Prepared(text("UPDATE rate_counters SET count = count - 1 WHERE bucket = :b AND window_start = :w"))


def count(cursor: Cursor, limits: dict, **who) -> None:
    """Add this submission to its windows inside the cursor's transaction (committed with it); if that
    passes a limit, take the counts back and raise TooManyRequests (nothing of it is left written)."""
    now = time.time()
    windows = list(scopes(limits, now=now, **who))
    if not windows:
        return
    params = {}
    for k, (bucket, start, _) in enumerate(windows):
        params[f"b{k}"], params[f"w{k}"] = bucket, start
    counts = dict(cursor.execute(BUMP[len(windows)], params))
    for bucket, start, limit in windows:
        if counts[bucket] > limit["count"]:
            cursor.execute_many(UNBUMP, [{"b": b, "w": w} for b, w, _ in windows])
            raise _refusal(bucket, start, limit, now)


def _refusal(bucket: str, start: int, limit: dict, now: float) -> TooManyRequests:
    wait = max(1, int(start + limit["window_s"] - now) + 1)
    what = "for this exercise" if bucket.startswith("le:") else "for this key"
    return TooManyRequests(f"At most {limit['count']} submissions {what} every {limit['window_s']} s; "
                           f"try again in {wait} s.", headers={"Retry-After": str(wait)})
