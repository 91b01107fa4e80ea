"""The gradebook (learner x assignment) and class analytics, computed in the database.

Aggregates select the few columns they need over indexed columns (window functions pick each
learner's score under the assignment's rule); no report, answer or source JSON is loaded, and the
misconception slugs come from their own indexed table. The gradebook is read a page of learners at
a time (keyset pagination on the learner id), so a page costs the same in a course of 100 or of
100,000 learners, and the CSV streams page by page with flat memory.
"""
from __future__ import annotations

import csv
import io
from typing import Iterator

from sqlalchemy import case, distinct, func, literal, select

from grader.courses import list_assignments
from grader.storage.models import (CourseDiagnosis, Enrollment, LearnerSummary, MisconceptionDay,
                                   MisconceptionLearner, Submission, SubmissionMisconception)

UNGRADED = ("invalid", "pending")  # not a grade: a queued submission counts once it is graded
COLUMNS = ("learner", "assignment_id", "exercise_id", "title", "score", "max_score", "attempts", "late")
PAGE = 100  # learners per gradebook page (JSON and pages); the CSV reads 1000 at a time
MAX_PAGE = 1000


def learner_page(db, course_id: str, after: str | None = None, limit: int = PAGE) -> list[str]:
    """Enrolled learners in id order, the `limit` after `after` (keyset pagination)."""
    query = select(Enrollment.learner).where(Enrollment.course_id == course_id).order_by(Enrollment.learner)
    if after is not None:
        query = query.where(Enrollment.learner > after)
    return list(db.scalars(query.limit(limit)))


def gradebook(db, course_id: str, learner: str | None = None, *, after: str | None = None,
              limit: int | None = None, assignments=None) -> list[dict]:
    """One row per learner and assignment for a page of learners (or the one learner named): the
    score by the assignment's rule (best or last, after late penalties), the attempts that counted,
    and whether that score came late."""
    assignments = assignments if assignments is not None else list_assignments(db, course_id)
    learners = [learner] if learner else learner_page(db, course_id, after, limit or PAGE)
    return rows_of(db, course_id, learners, assignments)


def rows_of(db, course_id: str, learners: list[str], assignments) -> list[dict]:
    """The gradebook rows of these learners (in this order) for these assignments."""
    last_rule = [a.id for a in assignments if a.scoring == "last"]
    chosen = _chosen(db, course_id, learners, last_rule) if learners and assignments else {}
    book = []
    for who in learners:
        for assignment in assignments:
            score, max_score, late, attempts = chosen.get((who, assignment.id), (None, None, False, 0))
            book.append({"learner": who, "assignment_id": assignment.id, "exercise_id": assignment.exercise_id,
                         "title": assignment.title, "score": score, "max_score": max_score, "attempts": attempts,
                         "late": bool(late)})
    return book


def _chosen(db, course_id: str, learners: list[str], last_rule: list[int]) -> dict:
    """(learner, assignment) -> (final score, max score, late, attempts) of the submission that holds
    the grade: the best final score (the latest on a tie) or, for the assignments in last_rule, the
    last one. One query over the covering index ix_submissions_course_learner."""
    last = Submission.assignment_id.in_(last_rule) if last_rule else literal(False)
    key = (Submission.learner, Submission.assignment_id)
    ranked = (select(Submission.learner, Submission.assignment_id, Submission.final_score, Submission.max_score,
                     Submission.late, func.count().over(partition_by=key).label("attempts"),
                     func.row_number().over(partition_by=key, order_by=(
                         case((last, literal(0.0)), else_=func.coalesce(Submission.final_score, 0.0)).desc(),
                         Submission.created_at.desc(),
                         case((last, Submission.id), else_=None).desc(),
                         case((last, None), else_=Submission.id).asc())).label("rank"))
              .where(Submission.course_id == course_id, Submission.learner.in_(learners),
                     Submission.assignment_id.is_not(None), Submission.verdict.not_in(UNGRADED))
              .subquery())
    rows = db.connection().execute(select(ranked.c.learner, ranked.c.assignment_id, ranked.c.final_score,
                                          ranked.c.max_score, ranked.c.late, ranked.c.attempts)
                                   .where(ranked.c.rank == 1))
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def standing(db, assignment, learner: str):
    """The submission that holds the learner's score for the assignment under its rule (or None):
    the score the gradebook shows, and the one an LMS must show too."""
    attempts = db.scalars(select(Submission).where(
        Submission.course_id == assignment.course_id, Submission.learner == learner,  # the course's index
        Submission.assignment_id == assignment.id, Submission.verdict.not_in(UNGRADED)
    ).order_by(Submission.created_at, Submission.id)).all()
    if not attempts:
        return None
    if assignment.scoring == "last":
        return attempts[-1]
    return max(attempts, key=lambda row: (row.final_score or 0.0, row.created_at))


def csv_lines(db, course_id: str, learner: str | None = None) -> Iterator[str]:
    """The whole gradebook as CSV text, a page of 1000 learners at a time (flat memory)."""
    yield _csv_text([], header=True)
    assignments = list_assignments(db, course_id)
    if learner:
        yield _csv_text(gradebook(db, course_id, learner, assignments=assignments))
        return
    after = None
    while True:
        learners = learner_page(db, course_id, after, MAX_PAGE)
        if not learners:
            return
        yield _csv_text(rows_of(db, course_id, learners, assignments))
        after = learners[-1]
        db.expunge_all()  # nothing of a page stays in the session


def _csv_text(rows: list[dict], header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows({**row, "score": "" if row["score"] is None else row["score"],
                      "max_score": "" if row["max_score"] is None else row["max_score"]} for row in rows)
    return buffer.getvalue()


def stats(db, exercise, course_id: str | None) -> dict:
    """Attempts, score distribution, first-try correct rate, and misconceptions ranked by the number of
    learners who hit them, with their counts per day: read from the summaries kept as submissions are
    stored (grader.courses.summaries), a row per learner rather than per submission."""
    course_id = course_id or None  # an empty ?course_id= means every course, as it always did
    table, where = LearnerSummary, _scope(LearnerSummary, exercise.id, course_id)
    learners = func.count() if course_id is not None else func.count(distinct(table.learner))
    counted = db.execute(select(learners, func.sum(table.first_correct), func.sum(table.attempts),
                                *(func.sum(getattr(table, f"bin{k}")) for k in range(5))).where(*where)).one()
    learners, first_right, attempts = counted[0], int(counted[1] or 0), int(counted[2] or 0)
    bins = [int(n or 0) for n in counted[3:]]
    if course_id is None:  # a learner in several courses: the first attempt of all
        first = (select(table.first_correct, func.row_number().over(
            partition_by=table.learner, order_by=(table.first_at, table.first_id)).label("rank")).where(*where)
            .subquery())
        first_right = db.scalar(select(func.count()).select_from(first).where(first.c.rank == 1,
                                                                            first.c.first_correct == 1))
    return {
        "exercise_id": exercise.id, "course_id": course_id, "attempts": attempts, "learners": learners,
        "first_try_correct_rate": first_right / learners if learners else None,
        "score_distribution": [{"from": k / 5, "to": (k + 1) / 5, "count": n} for k, n in enumerate(bins)],
        "misconceptions": _misconceptions(db, exercise, course_id),
    }


def _scope(table, exercise_id, course_id):
    return [table.exercise_id == exercise_id] + ([table.course_key == course_id] if course_id is not None else [])


def _misconceptions(db, exercise, course_id):
    """Slugs ranked by learners, with counts per UTC day (invalid reports name none; pending ones none yet)."""
    learners = func.count() if course_id is not None else func.count(distinct(MisconceptionLearner.learner))
    hit = dict(db.execute(select(MisconceptionLearner.slug, learners).where(
        *_scope(MisconceptionLearner, exercise.id, course_id)).group_by(MisconceptionLearner.slug)).all())
    by_day: dict[str, dict[str, int]] = {}
    days = MisconceptionDay
    for slug, day, count in db.execute(select(days.slug, days.day, func.sum(days.count)).where(
            *_scope(days, exercise.id, course_id)).group_by(days.slug, days.day)):
        if count:
            by_day.setdefault(slug, {})[day] = int(count)
    ranked = sorted(hit, key=lambda slug: (-hit[slug], slug))
    named = {d.slug: d.title for d in db.scalars(select(CourseDiagnosis).where(  # answer groups an instructor named
        CourseDiagnosis.exercise_id == exercise.id, CourseDiagnosis.slug.in_(ranked),
        *([CourseDiagnosis.course_id == course_id] if course_id else [])))}
    return [{"slug": slug, "title": named[slug] if slug in named else exercise.misconception(slug).title,
             "origin": "course" if slug in named else "catalog", "learners": hit[slug],
             "by_day": dict(sorted(by_day.get(slug, {}).items()))} for slug in ranked]


def grid(rows: list[dict], assignments, max_scores: dict[str, float]) -> list[dict]:
    """rows_of's rows as one line per learner: a cell per assignment (in order) and the totals, each
    assignment counting its exercise's max score whether or not it was attempted."""
    lines: dict[str, dict] = {}
    for row in rows:
        line = lines.setdefault(row["learner"], {"learner": row["learner"], "cells": [], "score": 0.0,
                                                 "max_score": 0.0, "late": 0})
        line["cells"].append(row)
        line["score"] += row["score"] or 0.0
        line["max_score"] += row["max_score"] or max_scores.get(row["exercise_id"], 1.0)
        line["late"] += bool(row["late"])
    return list(lines.values())


def misconception_learners(db, exercise_id: str, course_id: str, slugs: list[str], per_slug: int = 20) -> dict:
    """slug -> [(learner, submission id)]: up to per_slug learners who made the mistake, most recent
    first, each with their latest submission that made it (from the indexed slug table)."""
    table = SubmissionMisconception
    found: dict[str, dict[str, str]] = {slug: {} for slug in slugs}
    for slug in slugs:
        query = (select(table.learner, table.submission_id)
                 .where(table.exercise_id == exercise_id, table.course_id == course_id, table.slug == slug)
                 .order_by(table.created_at.desc(), table.submission_id.desc()).limit(per_slug * 5))
        for learner, submission_id in db.execute(query):
            if len(found[slug]) < per_slug:
                found[slug].setdefault(learner, submission_id)
    return {slug: list(learners.items()) for slug, learners in found.items()}
