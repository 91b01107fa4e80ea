"""Naming a code answer group: the instructor's title, message and equation under a slug of their
course, stored with the group's fingerprint; later submissions that match are diagnosed with it,
and a regrade applies it to earlier ones."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from grader.catalog.exercise import Exercise
from grader.groups import answer_groups
from grader.problems import Conflict, InvalidRequest, NotFound
from grader.storage.models import CourseDiagnosis, Submission


def name_group(db, secret: str, catalog: dict[str, Exercise], exercise: Exercise, course_id: str, group_id: str,
               body: dict, key_id: str | None) -> CourseDiagnosis:
    """Store the diagnosis of a code group of the exercise in the course; 404 for an unknown group,
    409 when the slug is taken in the course, 422 when it is a catalog slug or the group is named."""
    if any(body["slug"] in e.misconceptions or body["slug"] in e.fallbacks for e in catalog.values()):
        raise InvalidRequest(f"{body['slug']!r} is a slug of the catalog; choose a slug of your own.",
                             errors={"slug": ["a catalog slug"]})
    group = answer_groups.find_code_group(db, secret, exercise, course_id, group_id)
    if group is None:
        raise NotFound(f"There is no code answer group {group_id!r} of {exercise.id} in course {course_id!r}; "
                       "GET the groups to see their ids.")
    if group["diagnosis"] is not None:
        raise InvalidRequest(f"The group is named already ({group['diagnosis']['slug']}).",
                             errors={"group_id": ["already named"]})
    first = db.get(Submission, group["submissions"][0])
    row = CourseDiagnosis(course_id=course_id, exercise_id=exercise.id, exercise_version=exercise.version,
                          slug=body["slug"], title=body["title"], message=body["message"],
                          equation=body["equation"], group_id=group_id, fingerprint=first.fingerprint,
                          created_by=key_id)
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"Course {course_id!r} already has a diagnosis with the slug {body['slug']!r}.") from None
    return row
