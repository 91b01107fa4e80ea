"""Fair share for in-process code grading: at most one code job in flight per learner.

A second submission while the first runs is refused with 429 and Retry-After (the seconds the first
may still take), so one learner's flood holds at most one web thread and one sandbox slot. The claim
is a row in the database, so it holds across gunicorn workers; a worker that dies mid-job leaves a
row that expires after the job's wall clock and is then taken over.
"""
from __future__ import annotations

import contextlib
import math
import time

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from grader.problems import TooManyRequests
from grader.storage.models import CodeJob

MARGIN_S = 10.0  # beyond the wall clock: the round trip to the sandbox and the grading after it


@contextlib.contextmanager
def one_job_per_learner(db, learner: str, wall_s: float):
    """Claim the learner's slot (committed at once, so other workers see it), release it after."""
    now = time.time()
    expires = now + wall_s + MARGIN_S
    try:
        db.execute(insert(CodeJob).values(learner=learner, expires_at=expires))
        db.commit()
    except IntegrityError:
        db.rollback()
        taken = db.execute(update(CodeJob).where(CodeJob.learner == learner, CodeJob.expires_at < now)
                           .values(expires_at=expires)).rowcount
        db.commit()
        if not taken:
            current = db.get(CodeJob, learner)
            wait = max(1, math.ceil((current.expires_at if current else now + 1) - now))
            raise TooManyRequests("Your previous code submission is still being graded; one code submission runs "
                                  f"at a time per learner. Try again in {wait} s.",
                                  headers={"Retry-After": str(wait)}) from None
    try:
        yield
    finally:
        db.execute(delete(CodeJob).where(CodeJob.learner == learner))
        db.commit()
