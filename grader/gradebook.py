"""The gradebook (learner x assignment) and class analytics, computed from stored submissions."""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict

from sqlalchemy import select

from grader.courses import _aware, learners_of, list_assignments
from grader.storage.models import Submission

UNGRADED = ("invalid", "pending")  # not a grade: a queued submission counts once it is graded
COLUMNS = ("learner", "assignment_id", "exercise_id", "title", "score", "max_score", "attempts", "late")


def gradebook(db, course_id: str, learner: str | None = None) -> list[dict]:
    """One row per enrolled learner and assignment: the score by the assignment's rule (best or last,
    after late penalties), the attempts that counted, and whether that score came late."""
    assignments = list_assignments(db, course_id)
    learners = [learner] if learner else learners_of(db, course_id)
    rows_by = defaultdict(list)
    query = select(Submission).where(Submission.course_id == course_id, Submission.assignment_id.is_not(None),
                                     Submission.verdict.not_in(UNGRADED)).order_by(Submission.created_at, Submission.id)
    for row in db.scalars(query):
        rows_by[(row.learner, row.assignment_id)].append(row)
    book = []
    for who in learners:
        for assignment in assignments:
            attempts = rows_by.get((who, assignment.id), [])
            chosen = _chosen(attempts, assignment.scoring)
            book.append({"learner": who, "assignment_id": assignment.id, "exercise_id": assignment.exercise_id,
                         "title": assignment.title, "score": chosen.final_score if chosen else None,
                         "max_score": chosen.max_score if chosen else None, "attempts": len(attempts),
                         "late": bool(chosen and chosen.late)})
    return book


def standing(db, assignment, learner: str):
    """The submission that holds the learner's score for the assignment under its rule (or None):
    the score the gradebook shows, and the one an LMS must show too."""
    attempts = db.scalars(select(Submission).where(
        Submission.assignment_id == assignment.id, Submission.learner == learner,
        Submission.verdict.not_in(UNGRADED)).order_by(Submission.created_at, Submission.id)).all()
    return _chosen(attempts, assignment.scoring)


def _chosen(attempts, scoring):
    if not attempts:
        return None
    if scoring == "last":
        return attempts[-1]
    # a row still in the session is aware; SQLite gives stored ones back naive (they are UTC)
    return max(attempts, key=lambda row: (row.final_score or 0.0, _aware(row.created_at)))


def as_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "score": "" if row["score"] is None else row["score"],
                      "max_score": "" if row["max_score"] is None else row["max_score"]} for row in rows)
    return buffer.getvalue()


def stats(db, exercise, course_id: str | None) -> dict:
    """Attempts, score distribution, first-try correct rate, and misconceptions ranked by the number of
    learners who hit them, with their counts per day."""
    query = select(Submission).where(Submission.exercise_id == exercise.id, Submission.verdict != "invalid")
    if course_id:
        query = query.where(Submission.course_id == course_id)
    rows = list(db.scalars(query.order_by(Submission.created_at, Submission.id)))
    first = {}
    for row in rows:
        first.setdefault(row.learner, row)
    bins = [0] * 5
    for row in rows:
        bins[min(4, int(5 * row.score / row.max_score))] += 1 if row.max_score else 0
    learners_by_slug, days_by_slug, named = defaultdict(set), defaultdict(Counter), {}
    for row in rows:
        for match in row.report.get("misconceptions", []):
            learners_by_slug[match["slug"]].add(row.learner)
            days_by_slug[match["slug"]][row.created_at.date().isoformat()] += 1
            if match.get("origin") == "course":  # an answer group the course's instructor named
                named[match["slug"]] = match["title"]
    ranked = sorted(learners_by_slug, key=lambda slug: (-len(learners_by_slug[slug]), slug))
    return {
        "exercise_id": exercise.id, "course_id": course_id, "attempts": len(rows), "learners": len(first),
        "first_try_correct_rate": (sum(r.verdict == "correct" for r in first.values()) / len(first)) if first else None,
        "score_distribution": [{"from": k / 5, "to": (k + 1) / 5, "count": n} for k, n in enumerate(bins)],
        "misconceptions": [{"slug": slug, "title": named[slug] if slug in named else exercise.misconception(slug).title,
                            "origin": "course" if slug in named else "catalog", "learners": len(learners_by_slug[slug]),
                            "by_day": dict(sorted(days_by_slug[slug].items()))}
                           for slug in ranked],
    }
