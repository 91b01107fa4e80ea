"""A report as the API shows it, built straight from its dataclasses: the document that
schemas.SubmissionSchema describes and dumps (tests/test_hotpath.py compares the two on every
exercise's reports), at a fraction of marshmallow's cost on the submission path."""
from __future__ import annotations

import math

from grader.grading.report import InstanceSummary, Location, MisconceptionMatch, PartResult, Relation, Report

META = ("id", "exercise_id", "exercise_version", "kind", "learner", "seed", "attempt", "course_id", "assignment_id",
        "late", "final_score", "created_at")
CASTS = {"exercise_version": int, "seed": int, "attempt": int, "assignment_id": int, "late": bool,
         "final_score": float}


def two_digits(value) -> float | None:
    """schemas.TwoDigits: 2 significant digits, null when not finite."""
    if value is None:
        return None
    value = float(value)
    return float(f"{value:.2g}") if math.isfinite(value) else None


def _optional(cast, value):
    return None if value is None else cast(value)


def _location(location: Location | None) -> dict | None:
    if location is None:
        return None
    return {"index": [int(i) for i in location.index], "time_step": _optional(int, location.time_step)}


def _relation(relation: Relation | None) -> dict | None:
    if relation is None:
        return None
    steps = relation.time_steps
    return {"kind": relation.kind, "detail": relation.detail, "factor": two_digits(relation.factor),
            "time_steps": None if steps is None else [int(t) for t in steps]}


def _part(part: PartResult) -> dict:
    return {"name": part.name, "verdict": str(part.verdict), "score": float(part.score),
            "max_score": float(part.max_score), "relative_error": two_digits(part.relative_error),
            "location": _location(part.location), "message": part.message,
            "misconceptions": list(part.misconceptions), "relation": _relation(part.relation)}


def _match(match: MisconceptionMatch) -> dict:
    return {"slug": match.slug, "title": match.title, "message": match.message, "equation": match.equation,
            "parts": list(match.parts), "origin": getattr(match, "origin", "catalog")}


def _instance(summary: InstanceSummary) -> dict:
    return {"index": int(summary.index), "kind": summary.kind, "sizes": {str(k): v for k, v in summary.sizes.items()},
            "verdict": str(summary.verdict), "score": float(summary.score), "message": summary.message}


def submission_document(report: Report, meta: dict) -> dict:
    """The stored and returned document of a submission: its report and who, what and when."""
    document = {"verdict": str(report.verdict), "score": float(report.score), "max_score": float(report.max_score),
                "message": report.message, "parts": [_part(p) for p in report.parts],
                "misconceptions": [_match(m) for m in report.misconceptions], "hints": list(report.hints),
                "instances": [_instance(s) for s in report.instances]}
    for name in META:
        value = meta[name]
        document[name] = _optional(CASTS.get(name, str), value)
    return document
