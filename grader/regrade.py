"""Regrades: submissions made against an older version of an exercise, replayed on the current one."""
from __future__ import annotations

from sqlalchemy import select

from grader.auth import Principal
from grader.grading.numeric import grade_numeric
from grader.lti import passback
from grader.service import Context, find_exercise, grade_code_submission, index_slugs, legacy_seeds, record
from grader.storage.models import Submission


def regrade(db, ctx: Context, principal: Principal, exercise_id: str, course_id: str | None = None) -> list[dict]:
    """Regrade stored submissions made against an older version of the exercise: the stored answer
    (or source) is replayed on the current reference; the old report is kept in the history."""
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
            report = grade_code_submission(ctx, exercise, row.source, seeds)
        penalty = row.assignment.late_penalty if (row.late and row.assignment_id) else 0.0
        row.history = [*(row.history or []), old]
        row.exercise_version = exercise.version
        record(row, report, penalty)
        index_slugs(row, report)
        changes.append({"id": row.id, "learner": row.learner, "from_version": old["exercise_version"],
                        "old_verdict": old["verdict"], "new_verdict": row.verdict, "old_score": old["score"],
                        "new_score": row.score, "changed": (old["verdict"], old["score"]) != (row.verdict, row.score)})
        if changes[-1]["changed"]:
            db.flush()  # the gradebook read by the passback must see the new score
            owed += passback.schedule(db, row)  # the LMS shows the gradebook's score: resend it
    db.commit()
    if owed:
        ctx.kick_deliveries()
    return changes
