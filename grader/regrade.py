"""Regrades: submissions made against an older version of an exercise, replayed on the current one."""
from __future__ import annotations

from sqlalchemy import select

from grader.auth import Principal
from grader.grading.numeric import grade_numeric
from grader.service import Context, find_exercise, grade_code_submission, record, under_policy
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
    changes = []
    for row in db.scalars(query.order_by(Submission.created_at)):
        old = row.report
        graded_as = under_policy(exercise, row.assignment)
        if row.kind == "numeric":
            report = grade_numeric(graded_as, exercise.instance(row.seed), row.answer)
        else:
            report = grade_code_submission(ctx, graded_as, row.learner, row.source)
        penalty = row.assignment.late_penalty if (row.late and row.assignment_id) else 0.0
        row.history = [*(row.history or []), old]
        row.exercise_version = exercise.version
        record(row, report, penalty)
        changes.append({"id": row.id, "learner": row.learner, "from_version": old["exercise_version"],
                        "old_verdict": old["verdict"], "new_verdict": row.verdict, "old_score": old["score"],
                        "new_score": row.score, "changed": (old["verdict"], old["score"]) != (row.verdict, row.score)})
    db.commit()
    return changes
