"""Rate limits against answer fishing: fixed-window counters stored in the database, so they hold
across gunicorn workers and restarts. A submission's own upsert, in its transaction, returns the
windows' counts: one that passes a limit takes its counts back and is refused, so concurrent
requests at the limit cannot pass together. In a SQLite group commit the batch's counts are added
together and checked once for the batch, in its order (refused_in_batch): the same submissions
pass. Code submissions are also checked before they run (one indexed read), so a refused one costs
no sandbox job. Fixed windows let a burst straddle two windows (at most twice the count): the usual
trade-off."""
from __future__ import annotations

import time

from sqlalchemy import text

from grader.problems import TooManyRequests
from grader.storage.prepared import Cursor, Prepared

# Plain SQL built once, one statement per number of buckets (SQLite >= 3.35 and PostgreSQL share
# the upsert and RETURNING syntax): building ORM statements per request cost more than the queries.
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
    counts = _counts(Cursor.of(db), {(bucket, start) for bucket, start, _ in windows})
    for bucket, start, limit in windows:
        if counts.get((bucket, start), 0) >= limit["count"]:
            raise _refusal(bucket, start, limit, now)


# a refused submission takes its counts back: a transaction shared with others (storage.group_commit)
# cannot roll back for it, and its counts are its only writes so far
UNBUMP = Prepared(text("UPDATE rate_counters SET count = count - 1 WHERE bucket = :b AND window_start = :w"))


def count(cursor: Cursor, limits: dict, **who) -> None:
    """Add this submission to its windows inside the cursor's transaction (committed with it); if that
    passes a limit, take the counts back and raise TooManyRequests (nothing of it is left written).
    In a group commit that holds rows (storage.writers), the counts are added with the batch's other
    rows and the limits checked once for the whole batch (refused_in_batch), which refuses the same
    submissions."""
    now = time.time()
    windows = list(scopes(limits, now=now, **who))
    if not windows:
        return
    if cursor.holds_rows:
        for bucket, start, _ in windows:
            cursor.execute(ADD, {"b": bucket, "w": start})
        cursor.check_later(refused_in_batch, (windows, now))
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


ADD = Prepared(text("INSERT INTO rate_counters (bucket, window_start, count) VALUES (:b, :w, 1) "
                    "ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + 1"))


def refused_in_batch(cursor: Cursor, items: list) -> dict[int, TooManyRequests]:
    """The limits of a batch's submissions, checked at once after their counts were added. items:
    (windows, now) of each submission, in the batch's order; returns the refused ones' positions and
    errors. One read of the windows' counts, then each submission passes while every one of its
    windows stays within its limit (the count before the batch plus those passed so far), as one
    upsert per submission would have decided."""
    added: dict[tuple[str, int], int] = {}
    for windows, _ in items:
        for bucket, start, _ in windows:
            added[bucket, start] = added.get((bucket, start), 0) + 1
    counts = _counts(cursor, set(added))
    # the counts before the batch (a write of the batch under a savepoint counted at once, and stays
    # counted here for those before it: at the limit they may be refused where it passed, never the reverse)
    passed = {window: counts.get(window, 0) - n for window, n in added.items()}
    refused = {}
    for position, (windows, now) in enumerate(items):
        full = next(((b, w, limit) for b, w, limit in windows if passed[b, w] + 1 > limit["count"]), None)
        if full is not None:
            refused[position] = _refusal(*full, now)
            continue
        for bucket, start, _ in windows:
            passed[bucket, start] += 1
    return refused


def _counts(cursor: Cursor, windows: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The stored counts of these (bucket, window start) pairs, in one indexed read."""
    buckets, starts = sorted({b for b, _ in windows}), sorted({w for _, w in windows})
    params = {**{f"b{k}": b for k, b in enumerate(buckets)}, **{f"w{k}": w for k, w in enumerate(starts)}}
    rows = cursor.execute(_read_counts(len(buckets), len(starts)), params)
    return {(b, w): n for b, w, n in rows if (b, w) in windows}


_READS: dict[tuple[int, int], Prepared] = {}


def _read_counts(buckets: int, starts: int) -> Prepared:
    statement = _READS.get((buckets, starts))
    if statement is None:
        statement = _READS[buckets, starts] = Prepared(text(
            "SELECT bucket, window_start, count FROM rate_counters WHERE bucket IN ("
            + ", ".join(f":b{k}" for k in range(buckets)) + ") AND window_start IN ("
            + ", ".join(f":w{k}" for k in range(starts)) + ")"))
    return statement
