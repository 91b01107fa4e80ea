"""Courses, enrollments and assignments, and the rules a submission to an assignment must meet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from grader import auth
from grader.auth import Principal
from grader.problems import Conflict, Forbidden, InvalidRequest, NotFound
from grader.storage.models import Assignment, Course, Enrollment, Submission


class AssignmentClosed(Forbidden):
    status, slug, title = 403, "assignment-closed", "The assignment does not accept this submission"


def create_course(db, *, id: str, title: str) -> Course:
    if db.get(Course, id) is not None:
        raise Conflict(f"course {id!r} exists already", errors={"id": ["already taken"]})
    course = Course(id=id, title=title)
    db.add(course)
    db.commit()
    return course


def get_course(db, principal: Principal, course_id: str) -> Course:
    course = db.get(Course, course_id)
    if course is None:
        raise NotFound(f"There is no course {course_id!r}.")
    auth.require_course(principal, course_id)
    return course


def list_courses(db, principal: Principal) -> list[Course]:
    query = select(Course).order_by(Course.id)
    if principal.role == "instructor":
        query = query.where(Course.id == principal.course_id)
    return list(db.scalars(query))


def enroll(db, course_id: str, learners: list[str], *, with_keys: bool = False) -> list[dict]:
    """Enroll learners (external ids, as an LMS sends them); optionally issue each a learner key."""
    existing = set(db.scalars(select(Enrollment.learner).where(Enrollment.course_id == course_id)))
    rows = []
    for learner in dict.fromkeys(learners):
        if learner not in existing:
            db.add(Enrollment(course_id=course_id, learner=learner))
        row = {"learner": learner, "new": learner not in existing}
        if with_keys:
            row["key"] = auth.create_key(db, role="learner", learner=learner, course_id=course_id, commit=False).key
        rows.append(row)
    db.commit()
    return rows


def learners_of(db, course_id: str) -> list[str]:
    return list(db.scalars(select(Enrollment.learner).where(Enrollment.course_id == course_id)
                           .order_by(Enrollment.learner)))


def create_assignment(db, catalog, course_id: str, fields: dict) -> Assignment:
    if fields["exercise_id"] not in catalog:
        raise NotFound(f"there is no exercise {fields['exercise_id']!r}", errors={"exercise_id": ["unknown"]})
    if fields.get("opens_at") and fields.get("due_at") and fields["due_at"] <= fields["opens_at"]:
        raise InvalidRequest("due_at must come after opens_at", errors={"due_at": ["before opens_at"]})
    assignment = Assignment(course_id=course_id, title=fields.get("title") or catalog[fields["exercise_id"]].title,
                            **{k: v for k, v in fields.items() if k != "title"})
    db.add(assignment)
    db.commit()
    return assignment


def list_assignments(db, course_id: str) -> list[Assignment]:
    return list(db.scalars(select(Assignment).where(Assignment.course_id == course_id).order_by(Assignment.id)))


@dataclass(frozen=True)
class Placement:
    """Where a submission goes: its course and assignment (both may be None), and whether it is late."""

    course_id: str | None = None
    assignment: Assignment | None = None
    late: bool = False

    @property
    def penalty(self) -> float:
        return self.assignment.late_penalty if self.late and self.assignment else 0.0


def check_acting_for(db, principal: Principal, learner: str) -> None:
    """An instructor key acts only for learners enrolled in its course (or as itself); a course-less
    instructor key acts for nobody but itself."""
    if principal.role != "instructor" or learner == f"key:{principal.key_id}":
        return
    if principal.course_id is None or db.get(Enrollment, (principal.course_id, learner)) is None:
        raise Forbidden(f"This instructor key acts only for learners enrolled in its course "
                        f"({principal.course_id!r}); {learner!r} is not.")


def place(db, principal: Principal, learner: str, exercise_id: str, assignment_id: int | None,
          now: datetime | None = None) -> Placement:
    """Find the assignment a submission belongs to and apply its rules: open, due, attempts."""
    assignment = _find_assignment(db, principal, exercise_id, assignment_id)
    if assignment is None:
        return Placement(course_id=principal.course_id)
    if db.get(Enrollment, (assignment.course_id, learner)) is None:
        raise Forbidden(f"{learner!r} is not enrolled in course {assignment.course_id!r}.")
    now = now or datetime.now(timezone.utc)
    if assignment.opens_at and now < _aware(assignment.opens_at):
        raise AssignmentClosed(f"{assignment.title!r} opens at {_aware(assignment.opens_at).isoformat()}.")
    late = bool(assignment.due_at and now > _aware(assignment.due_at))
    if late and assignment.late_policy == "refuse":
        raise AssignmentClosed(f"{assignment.title!r} was due at {_aware(assignment.due_at).isoformat()}; "
                               "this course does not accept late submissions.")
    if assignment.max_attempts is not None:
        used = db.scalar(select(func.count()).select_from(Submission).where(
            Submission.course_id == assignment.course_id, Submission.learner == learner,  # the course's index
            Submission.assignment_id == assignment.id, Submission.verdict != "invalid"))
        if used >= assignment.max_attempts:
            raise AssignmentClosed(f"All {assignment.max_attempts} attempts at {assignment.title!r} are used.")
    return Placement(course_id=assignment.course_id, assignment=assignment, late=late)


def _find_assignment(db, principal, exercise_id, assignment_id):
    if assignment_id is not None:
        assignment = db.get(Assignment, assignment_id)
        if assignment is None or assignment.exercise_id != exercise_id:
            raise NotFound(f"There is no assignment {assignment_id} for {exercise_id!r}.")
        if principal.role != "admin" and principal.course_id not in (None, assignment.course_id):
            raise Forbidden(f"Assignment {assignment_id} belongs to another course.")
        return assignment
    if principal.course_id is None:
        return None
    candidates = list(db.scalars(select(Assignment).where(Assignment.course_id == principal.course_id,
                                                          Assignment.exercise_id == exercise_id)))
    if len(candidates) > 1:
        raise InvalidRequest(f"{exercise_id!r} is assigned {len(candidates)} times in this course; name the "
                             "assignment_id.", errors={"assignment_id": ["required here"]})
    return candidates[0] if candidates else None


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
