"""Rate limits against answer fishing, counted from the stored submissions themselves, so they hold
across gunicorn workers and restarts."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from grader.problems import TooManyRequests
from grader.storage.models import Submission


def check(db, limits: dict, *, learner: str, exercise_id: str, key_id: str | None,
          now: datetime | None = None) -> None:
    """Raise TooManyRequests (429, Retry-After) when a window already holds its count.

    limits: {"learner_exercise": {"count", "window_s"}, "key": {"count", "window_s"}}; a missing entry
    is no limit.
    """
    now = now or datetime.now(timezone.utc)
    scopes = {"learner_exercise": (Submission.learner == learner, Submission.exercise_id == exercise_id),
              "key": (Submission.key_id == key_id,)}
    for scope, conditions in scopes.items():
        limit = limits.get(scope)
        if not limit or (scope == "key" and key_id is None):
            continue
        since = now - timedelta(seconds=limit["window_s"])
        count, oldest = db.execute(select(func.count(), func.min(Submission.created_at))
                                   .where(*conditions, Submission.created_at > since)).one()
        if count >= limit["count"]:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
            wait = max(1, math.ceil((oldest + timedelta(seconds=limit["window_s"]) - now).total_seconds()))
            what = "for this exercise" if scope == "learner_exercise" else "for this key"
            raise TooManyRequests(f"At most {limit['count']} submissions {what} every {limit['window_s']} s; "
                                  f"try again in {wait} s.", headers={"Retry-After": str(wait)})
