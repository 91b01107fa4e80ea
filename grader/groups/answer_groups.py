"""The answer groups of an exercise in a course: wrong submissions that no catalogued misconception
explains, code grouped by fingerprint (agreeing within the parts' tolerances), numeric answers by
the error signature the grader computed (which parts are wrong, their relation and time range)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
from sqlalchemy import select

from grader.catalog.exercise import SAMPLES, Exercise
from grader.grading.numeric import grade_numeric
from grader.groups import diagnoses, fingerprint
from grader.schemas import PartSchema
from grader.storage.models import Submission

PART_SCHEMA = PartSchema()


def code_groups(db, secret: str, exercise: Exercise, course_id: str) -> list[dict]:
    """Largest first: each group's id (its first submission's fingerprint hash), size, learners,
    submissions, the course diagnosis it carries, its first submission as the example, and how it
    differs from the reference on each probe instance, part by part."""
    probes = fingerprint.probe_instances(secret, exercise)
    named = {d.group_id: diagnoses.as_dict(d) for d in diagnoses.of_course(db, course_id, exercise.id)
             if d.exercise_version == exercise.version}
    groups: list[list[Submission]] = []
    for row in _unexplained(db, exercise, course_id, "code"):
        home = next((g for g in groups if fingerprint.agree(exercise, probes, g[0].fingerprint, row.fingerprint)), None)
        if home is None:
            groups.append([row])
        else:
            home.append(row)
    out = []
    for members in groups:
        first = members[0]
        group_id = "c" + first.fingerprint["hash"][:15]
        out.append({**_summary(group_id, members), "kind": "code", "diagnosis": named.get(group_id),
                    "example": {"submission_id": first.id, "report": first.report, "source": first.source},
                    "differences": differences(exercise, probes, first.fingerprint)})
    return _largest_first(out)


def numeric_groups(db, exercise: Exercise, course_id: str) -> list[dict]:
    """Wrong numeric answers with the same error signature, largest first."""
    buckets: dict[str, list[Submission]] = {}
    signatures = {}
    for row in _unexplained(db, exercise, course_id, "numeric"):
        signature = error_signature(row.report)
        key = "n" + hashlib.sha256(json.dumps(signature).encode()).hexdigest()[:15]
        buckets.setdefault(key, []).append(row)
        signatures[key] = signature
    return _largest_first([{**_summary(key, rows), "kind": "numeric", "signature": signatures[key],
                            "example": {"submission_id": rows[0].id, "report": rows[0].report}}
                           for key, rows in buckets.items()])


def error_signature(report: dict) -> list[dict]:
    """Per wrong part: its relation to the reference (kind, factor, confined time range)."""
    signature = []
    for part in report.get("parts", []):
        if part["verdict"] == "correct":
            continue
        relation = part.get("relation") or {}
        signature.append({"part": part["name"], "relation": relation.get("kind"), "factor": relation.get("factor"),
                          "time_steps": relation.get("time_steps")})
    return signature


def find_code_group(db, secret: str, exercise: Exercise, course_id: str, group_id: str) -> dict | None:
    return next((g for g in code_groups(db, secret, exercise, course_id) if g["id"] == group_id), None)


def differences(exercise: Exercise, probes, fp: dict) -> list[dict]:
    """Per probe instance, each part graded against the reference: verdict, relative error (2
    digits), where it is largest (index, time step) and the relation found; a part the code did not
    return readably is said so. Probe inputs are never shown."""
    out = []
    for k, (probe, outputs) in enumerate(zip(probes, fp["probes"])):
        answer = {p.name: _as_answer(p, probe, outputs[p.name]) for p in exercise.parts}
        report = grade_numeric(exercise, probe, answer)
        parts = []
        for part, result in zip(exercise.parts, report.parts):
            if outputs[part.name] is None:
                parts.append({"name": part.name, "verdict": "missing",
                              "message": f"{part.name}: no readable value on this probe (raised, missing or malformed)."})
            else:
                parts.append(PART_SCHEMA.dump(result))
        out.append({"probe": k + 1, "parts": parts})
    return out


def _as_answer(part, probe, value):
    """What the grader reads for a part: the output, its samples' mean as constant draws, or the
    reference where the code returned nothing readable (reported as missing instead)."""
    expected = probe.answer[part.name]
    if value is None:
        value = expected.samples if part.kind == SAMPLES else expected
    elif part.kind == SAMPLES:
        value = np.full(expected.count, value)
    return value.tolist() if isinstance(value, np.ndarray) else sorted(value) if isinstance(value, (set, frozenset)) \
        else value.item() if isinstance(value, np.generic) else value


def _unexplained(db, exercise: Exercise, course_id: str, kind: str):
    """Wrong submissions of the current version that no catalogued misconception explains."""
    query = select(Submission).where(Submission.course_id == course_id, Submission.exercise_id == exercise.id,
                                     Submission.exercise_version == exercise.version, Submission.kind == kind,
                                     Submission.verdict.in_(diagnoses.WRONG))
    if kind == "code":
        query = query.where(Submission.fingerprint.is_not(None))
    for row in db.scalars(query.order_by(Submission.created_at, Submission.id)):
        if not diagnoses.catalogued(row.report):
            yield row


def _summary(group_id: str, rows: list[Submission]) -> dict:
    learners = sorted({r.learner for r in rows})
    return {"id": group_id, "size": len(rows), "learners": learners, "learner_count": len(learners),
            "submissions": [r.id for r in rows]}


def _largest_first(groups: list[dict]) -> list[dict]:
    return sorted(groups, key=lambda g: (-g["learner_count"], -g["size"], g["id"]))
