"""What a learner's pages show about their progress: the catalog in the book's order, their courses
and assignments with attempts and scores (from the gradebook's own queries), their attempts grouped
by exercise, the next exercise, and the code they last submitted."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from grader import courses
from grader.courses import gradebook
from grader.storage.models import Course, Enrollment, Submission

_SECTION = re.compile(r"0\.17 §([\d.]+)")
_EXERCISE = re.compile(r"Exercise ([\d.]+)")


def book_order(exercises) -> list:
    """Exercises in the order the book reaches them: by section (the 0.17 numbering, which every
    exercise names), the end-of-section exercises last, by number."""
    def key(exercise):
        section = _SECTION.search(exercise.info["section"])
        number = _EXERCISE.search(exercise.info["section"])
        return (_numbers(section.group(1)) if section else (99,),
                _numbers(number.group(1)) if number else (), exercise.title)
    return sorted(exercises, key=key)


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.strip(".").split(".") if n)


def next_exercise(catalog: dict, exercise_id: str):
    ordered = book_order(catalog.values())
    ids = [e.id for e in ordered]
    if exercise_id not in ids or ids.index(exercise_id) + 1 == len(ids):
        return None
    return ordered[ids.index(exercise_id) + 1]


@dataclass
class AssignmentProgress:
    assignment: object
    attempts: int
    score: float | None
    max_score: float
    late: bool
    status: str

    @property
    def attempts_left(self) -> int | None:
        limit = self.assignment.max_attempts
        return None if limit is None else max(0, limit - self.attempts)


def learner_courses(db, catalog: dict, learner: str, course_id: str | None = None,
                    now: datetime | None = None) -> list[tuple]:
    """[(course, [AssignmentProgress])] for the courses the learner is enrolled in (only the key's
    course when the key has one)."""
    query = select(Course).join(Enrollment, Enrollment.course_id == Course.id).where(
        Enrollment.learner == learner).order_by(Course.id)
    if course_id:
        query = query.where(Course.id == course_id)
    now = now or datetime.now(timezone.utc)
    result = []
    for course in db.scalars(query):
        assignments = courses.list_assignments(db, course.id)
        rows = gradebook.rows_of(db, course.id, [learner], assignments)
        result.append((course, [_progress(a, r, catalog, now) for a, r in zip(assignments, rows)]))
    return result


def _progress(assignment, row, catalog, now) -> AssignmentProgress:
    exercise = catalog.get(assignment.exercise_id)
    max_score = row["max_score"] or (exercise.max_score if exercise else 1.0)
    progress = AssignmentProgress(assignment, row["attempts"], row["score"], max_score, row["late"], "")
    progress.status = _status(progress, now)
    return progress


def _status(p: AssignmentProgress, now: datetime) -> str:
    a = p.assignment
    if p.score is not None and p.score >= p.max_score - 1e-9:
        return "Done"
    if a.opens_at and now < courses._aware(a.opens_at):
        return "Not open yet"
    if p.attempts_left == 0:
        return "No attempts left"
    if a.due_at and now > courses._aware(a.due_at):
        return "Closed" if a.late_policy == "refuse" else "Overdue (late penalty)"
    return "In progress" if p.attempts else "Not started"


def assignment_for(db, catalog: dict, principal, exercise_id: str) -> AssignmentProgress | None:
    """The learner's assignment of this exercise in the key's course, if there is exactly one: that
    assignment's row only, not the whole course's."""
    if principal.role != "learner" or not principal.course_id:
        return None
    enrolled = db.scalar(select(Enrollment.learner).where(Enrollment.course_id == principal.course_id,
                                                          Enrollment.learner == principal.learner))
    found = [a for a in courses.list_assignments(db, principal.course_id) if a.exercise_id == exercise_id]
    if enrolled is None or len(found) != 1:
        return None
    row = gradebook.rows_of(db, principal.course_id, [principal.learner], found)[0]
    return _progress(found[0], row, catalog, datetime.now(timezone.utc))


def grouped(reports: list[dict], catalog: dict) -> list[dict]:
    """Reports (newest first) grouped by exercise in the book's order, with the best score of each."""
    groups: dict[str, dict] = {}
    for report in reports:
        group = groups.setdefault(report["exercise_id"], {
            "exercise_id": report["exercise_id"], "exercise": catalog.get(report["exercise_id"]),
            "best": None, "max_score": report.get("max_score"), "reports": []})
        group["reports"].append(report)
        if report.get("verdict") not in ("invalid", "pending"):
            score = report.get("final_score", report.get("score"))
            group["best"] = score if group["best"] is None else max(group["best"], score)
    order = {e.id: k for k, e in enumerate(book_order(catalog.values()))}
    return sorted(groups.values(), key=lambda g: (order.get(g["exercise_id"], len(order)), g["exercise_id"]))


def last_source(db, learner: str, exercise_id: str) -> str | None:
    """The code this learner last submitted for the exercise, to put back in the code box."""
    return db.scalar(select(Submission.source).where(
        Submission.learner == learner, Submission.exercise_id == exercise_id, Submission.kind == "code")
        .order_by(Submission.created_at.desc(), Submission.id.desc()).limit(1))
