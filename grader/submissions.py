"""Reading stored reports: one report, its errors per time step, and listings a page at a time."""
from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import and_, or_, select

from grader.auth import Principal, acting_learner, may_read
from grader.grading import series
from grader.problems import Forbidden, InvalidRequest, NotFound
from grader.storage.models import Submission


def get_submission(db, principal: Principal, submission_id: str) -> dict:
    row = db.get(Submission, submission_id)
    if row is None or not may_read(principal, row.learner, row.course_id):
        raise NotFound(f"There is no submission {submission_id!r} that this key may read.")
    return row.report


def step_errors(db, ctx, principal: Principal, submission_id: str) -> dict:
    """Per time step, the relative error of each time-indexed part of a numeric answer (2 significant
    digits, like the report's errors): what the report page plots, for clients that draw it."""
    get_submission(db, principal, submission_id)  # the same authorization as the report
    row = db.get(Submission, submission_id)
    exercise = ctx.catalog.get(row.exercise_id)
    if row.kind != "numeric" or not row.answer or exercise is None or row.exercise_version != exercise.version:
        return {"id": row.id, "parts": {}}
    steps = series.step_errors(exercise, exercise.instance(row.seed), row.answer)
    return {"id": row.id, "parts": {name: [[t, float(f"{error:.2g}")] for t, error in points]
                                    for name, points in steps.items()}}


def list_submissions(db, principal: Principal, *, learner=None, exercise_id=None, course_id=None,
                     limit=50, cursor=None) -> tuple[list[dict], str | None]:
    """Newest first, a page at a time: (reports, the cursor of the next page or None). A learner key
    sees only its own learner's, an instructor key only its course's. Keyset pagination on
    (created_at, id): a page costs the same however many rows come before it."""
    if principal.role == "learner":
        learner = acting_learner(principal, learner)
    if principal.role == "instructor":
        if course_id not in (None, principal.course_id):
            raise Forbidden(f"This instructor key is for course {principal.course_id!r}.")
        if principal.course_id is None:  # an instructor key without a course sees nothing
            return [], None
        course_id = principal.course_id
    query = select(Submission.report, Submission.created_at, Submission.id).order_by(
        Submission.created_at.desc(), Submission.id.desc()).limit(limit + 1)
    for column, value in ((Submission.learner, learner), (Submission.exercise_id, exercise_id),
                          (Submission.course_id, course_id)):
        if value:
            query = query.where(column == value)
    if cursor:
        at, row_id = _read_cursor(cursor)
        query = query.where(or_(Submission.created_at < at, and_(Submission.created_at == at, Submission.id < row_id)))
    rows = db.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [r.report for r in rows], (_cursor(rows[-1].created_at, rows[-1].id) if more else None)


def _cursor(created_at, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def _read_cursor(cursor: str):
    try:
        at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), row_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this service gave out; start without it.",
                             errors={"cursor": ["not a cursor"]}) from None
