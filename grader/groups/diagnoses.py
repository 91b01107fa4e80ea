"""Diagnoses instructors give to answer groups: stored per course, matched against the fingerprint
of every later wrong code submission of the course, and shown in its report like a catalogued
misconception (origin "course")."""
from __future__ import annotations

from sqlalchemy import select

from grader.groups import fingerprint
from grader.storage.models import CourseDiagnosis

WRONG = ("incorrect", "partially_correct")
COURSE = "course"


def of_course(db, course_id: str, exercise_id: str | None = None) -> list[CourseDiagnosis]:
    query = select(CourseDiagnosis).where(CourseDiagnosis.course_id == course_id)
    if exercise_id:
        query = query.where(CourseDiagnosis.exercise_id == exercise_id)
    return list(db.scalars(query.order_by(CourseDiagnosis.created_at, CourseDiagnosis.id)))


def catalogued(report: dict) -> list[dict]:
    """The report's misconceptions that come from the catalog (not from a course's diagnosis)."""
    return [m for m in report.get("misconceptions", []) if m.get("origin", "catalog") != COURSE]


def annotate(db, secret: str, exercise, row) -> bool:
    """Give a wrong code submission with no catalogued misconception the diagnosis of the course's
    named group its fingerprint matches (replacing an earlier course diagnosis); True when the
    stored report changed. Correct answers and catalogued diagnoses are left alone."""
    if not row.fingerprint or not row.course_id or row.verdict not in WRONG or catalogued(row.report):
        return False
    probes = fingerprint.probe_instances(secret, exercise)
    match = next((d for d in of_course(db, row.course_id, exercise.id)
                  if fingerprint.agree(exercise, probes, d.fingerprint, row.fingerprint)), None)
    report = _without_course_diagnoses(row.report)
    if match is not None:
        report = _with(report, match)
    changed = report != row.report
    row.report = report
    return changed


def _without_course_diagnoses(report: dict) -> dict:
    slugs = {m["slug"] for m in report.get("misconceptions", []) if m.get("origin") == COURSE}
    parts = [{**p, "misconceptions": [s for s in p.get("misconceptions", []) if s not in slugs]}
             for p in report.get("parts", [])]
    return {**report, "parts": parts, "misconceptions": catalogued(report)}


def _with(report: dict, diagnosis: CourseDiagnosis) -> dict:
    wrong = [p["name"] for p in report["parts"] if p["verdict"] != "correct"]
    parts = [{**p, "misconceptions": [*p.get("misconceptions", []), diagnosis.slug]} if p["name"] in wrong else p
             for p in report["parts"]]
    match = {"slug": diagnosis.slug, "title": diagnosis.title, "message": diagnosis.message,
             "equation": diagnosis.equation, "parts": wrong, "origin": COURSE}
    return {**report, "parts": parts, "misconceptions": [*report.get("misconceptions", []), match]}


def as_dict(diagnosis: CourseDiagnosis) -> dict:
    """A named group as the API and the course export show it (the fingerprint stays inside)."""
    return {"slug": diagnosis.slug, "title": diagnosis.title, "message": diagnosis.message,
            "equation": diagnosis.equation, "exercise_id": diagnosis.exercise_id,
            "exercise_version": diagnosis.exercise_version, "group_id": diagnosis.group_id,
            "course_id": diagnosis.course_id, "created_at": diagnosis.created_at.isoformat()}
