"""Data rights: everything stored about a learner, exported or deleted; and regrades."""
from __future__ import annotations

from contextlib import ExitStack

from sqlalchemy import delete, select

from grader import storage
from grader.courses import summaries

from grader.storage.models import ApiKey, Enrollment, Submission, utcnow


def export(db, learner: str) -> dict:
    """Enrollments, keys (ids and roles, never hashes) and every submission with its reports."""
    return {
        "learner": learner,
        "enrollments": [{"course_id": e.course_id, "since": e.created_at.isoformat()}
                        for e in db.scalars(select(Enrollment).where(Enrollment.learner == learner))],
        "keys": [{"id": k.id, "role": k.role, "course_id": k.course_id, "created_at": k.created_at.isoformat(),
                  "revoked": k.revoked_at is not None}
                 for k in db.scalars(select(ApiKey).where(ApiKey.learner == learner))],
        "submissions": [{"report": s.report, "answer": s.answer, "source": s.source, "history": s.history or []}
                        for s in db.scalars(select(Submission).where(Submission.learner == learner)
                                            .order_by(Submission.created_at))],
    }


def erase(db, learner: str) -> dict:
    """Delete the learner's submissions and enrollments and revoke their keys (kept as revoked rows
    so that key ids in logs still resolve, without the learner)."""
    with storage.writing(db):  # SQLite: nothing of theirs is stored between the counts read and the delete
        with ExitStack() as summaries_of:  # the statistics forget them too, exercise by exercise
            for exercise_id in db.scalars(select(Submission.exercise_id).where(Submission.learner == learner)
                                          .distinct()):
                summaries_of.enter_context(summaries.changing(db, exercise_id, [learner]))
            submissions = db.execute(delete(Submission).where(Submission.learner == learner)).rowcount
        enrollments = db.execute(delete(Enrollment).where(Enrollment.learner == learner)).rowcount
        keys = 0
        for key in db.scalars(select(ApiKey).where(ApiKey.learner == learner)):
            key.learner, key.label, key.revoked_at = None, None, key.revoked_at or utcnow()
            keys += 1
        db.commit()
    return {"learner": learner, "submissions": submissions, "enrollments": enrollments, "keys_revoked": keys}
