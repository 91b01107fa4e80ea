"""Regrades: submissions made against an older version of an exercise, replayed on the current one,
and the diagnoses of a course's named answer groups applied to the submissions made before."""
from __future__ import annotations

from sqlalchemy import select

from grader.auth import Principal
from grader.grading.numeric import grade_numeric
from grader.groups import diagnoses
from grader.lti import passback
from grader.service import Context, find_exercise, grade_code, legacy_seeds, record
from grader.storage.models import Submission


def regrade(db, ctx: Context, principal: Principal, exercise_id: str, course_id: str | None = None) -> list[dict]:
    """Regrade stored submissions made against an older version of the exercise: the stored answer
    (or source) is replayed on the current reference; the old report is kept in the history. Then
    wrong code submissions of the current version are matched again against their course's named
    answer groups (nothing is run again: their stored fingerprints are compared)."""
    exercise = find_exercise(ctx, exercise_id)
    if principal.role == "instructor":
        course_id = principal.course_id or "\x00"
    query = select(Submission).where(Submission.exercise_id == exercise.id,
                                     Submission.exercise_version != exercise.version)
    if course_id:
        query = query.where(Submission.course_id == course_id)
    changes, owed = [], 0
    for row in db.scalars(query.order_by(Submission.created_at)):
        old = row.report
        if row.kind == "numeric":
            report = grade_numeric(exercise, exercise.instance(row.seed), row.answer)
        else:
            seeds = row.hidden_seeds or legacy_seeds(ctx, exercise, row.learner)  # the same hidden instances
            graded = grade_code(ctx, exercise, row.source, seeds, probes=row.course_id is not None)
            report, row.fingerprint = graded.report, graded.fingerprint
        penalty = row.assignment.late_penalty if (row.late and row.assignment_id) else 0.0
        row.history = [*(row.history or []), old]
        row.exercise_version = exercise.version
        record(row, report, penalty)
        diagnoses.annotate(db, ctx.secret, exercise, row)
        changes.append(_change(row, old))
        if changes[-1]["changed"]:
            db.flush()  # the gradebook read by the passback must see the new score
            owed += passback.schedule(db, row)  # the LMS shows the gradebook's score: resend it
    changes += _rediagnose(db, ctx, exercise, course_id, {c["id"] for c in changes})
    db.commit()
    if owed:
        ctx.kick_deliveries()
    return changes


def _rediagnose(db, ctx, exercise, course_id, done: set[str]) -> list[dict]:
    """Current-version code submissions whose course diagnosis changes (a group named since)."""
    query = select(Submission).where(Submission.exercise_id == exercise.id, Submission.kind == "code",
                                     Submission.exercise_version == exercise.version,
                                     Submission.fingerprint.is_not(None), Submission.course_id.is_not(None))
    if course_id:
        query = query.where(Submission.course_id == course_id)
    changes = []
    for row in db.scalars(query.order_by(Submission.created_at)):
        if row.id in done:
            continue
        old = row.report
        if diagnoses.annotate(db, ctx.secret, exercise, row):
            row.history = [*(row.history or []), old]
            changes.append(_change(row, old))
    return changes


def _change(row, old) -> dict:
    return {"id": row.id, "learner": row.learner, "from_version": old["exercise_version"],
            "old_verdict": old["verdict"], "new_verdict": row.verdict, "old_score": old["score"],
            "new_score": row.score, "changed": (old["verdict"], old["score"]) != (row.verdict, row.score),
            "old_misconceptions": [m["slug"] for m in old.get("misconceptions", [])],
            "new_misconceptions": [m["slug"] for m in row.report.get("misconceptions", [])]}
