"""Use cases behind the views: issue an instance, grade and store a submission, read submissions."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from grader import tokens
from grader.auth import Principal, acting_learner
from grader.catalog import Exercise
from grader.catalog.exercise import ARRAY, SAMPLES
from grader.grading.numeric import grade_numeric
from grader.problems import InvalidRequest, InvalidToken, NotFound
from grader.schemas import SubmissionSchema
from grader.storage.models import Submission, utcnow


@dataclass(frozen=True)
class Context:
    """What a use case needs from the app: the catalog, the signing secret and the token lifetime."""

    catalog: dict[str, Exercise]
    secret: str
    token_max_age: int


def find_exercise(ctx: Context, exercise_id: str) -> Exercise:
    try:
        return ctx.catalog[exercise_id]
    except KeyError:
        raise NotFound(f"There is no exercise {exercise_id!r}; GET /api/v1/exercises lists them.") from None


def issue_instance(ctx: Context, principal: Principal, exercise_id: str, *, attempt: int,
                   learner: str | None = None) -> dict:
    """The learner's instance for this attempt, with its params, answer fields and signed token."""
    exercise = find_exercise(ctx, exercise_id)
    learner = acting_learner(principal, learner)
    seed = tokens.derive_seed(ctx.secret, exercise.id, exercise.version, learner, attempt)
    instance = exercise.instance(seed)
    claim = tokens.InstanceClaim(exercise.id, exercise.version, seed, learner, attempt, tokens.now())
    return {
        "token": tokens.issue(ctx.secret, claim),
        "exercise_id": exercise.id, "exercise_version": exercise.version,
        "learner": learner, "attempt": attempt,
        "params": {name: _jsonable(value) for name, value in instance.params.items()},
        "answer_fields": {p.name: _field(p, instance.answer[p.name]) for p in exercise.parts},
    }


def _field(part, value) -> dict:
    """What the learner must send for one part (never the value itself)."""
    field = {"kind": part.kind, "description": part.description, "weight": part.weight, "rtol": part.rtol}
    if part.kind == SAMPLES:
        field["shape"] = [value.count]
    elif part.kind == ARRAY:
        field["shape"] = list(np.shape(value))
    if part.labels:
        field["labels"] = list(part.labels)
    if part.options:
        field["options"] = [{"id": o["id"], "text": o["text"]} for o in part.options]
    return field


def submit(db, ctx: Context, principal: Principal, body: dict) -> dict:
    """Grade a submission and commit it with its report before returning the report."""
    exercise = find_exercise(ctx, body["exercise_id"])
    if body["kind"] not in exercise.info["kinds"]:
        raise InvalidRequest(f"{exercise.id} accepts {' and '.join(exercise.info['kinds'])} submissions, "
                             f"not {body['kind']}.", errors={"kind": ["not accepted by this exercise"]})
    learner = acting_learner(principal, body.get("learner"))
    missing = {f: ["Missing data for required field."] for f in ("instance_token", "answer") if f not in body}
    if missing:
        raise InvalidRequest("A numeric submission needs instance_token and answer.", errors=missing)
    claim = tokens.verify(ctx.secret, body["instance_token"], learner=learner, max_age=ctx.token_max_age)
    if (claim.exercise_id, claim.version) != (exercise.id, exercise.version):
        raise InvalidToken(f"The token is for {claim.exercise_id} version {claim.version}, not "
                           f"{exercise.id} version {exercise.version}; fetch a new instance.")
    report = grade_numeric(exercise, exercise.instance(claim.seed), body["answer"])
    row = Submission(id=uuid.uuid4().hex, exercise_id=exercise.id, exercise_version=exercise.version,
                     kind="numeric", learner=learner, key_id=principal.key_id, seed=claim.seed,
                     attempt=claim.attempt, answer=body["answer"], verdict=report.verdict.value,
                     score=report.score, max_score=report.max_score, report={}, created_at=utcnow())
    row.report = SubmissionSchema().dump({**vars(report), **_meta(row)})
    db.add(row)
    db.commit()
    return row.report


def get_submission(db, principal: Principal, submission_id: str) -> dict:
    row = db.get(Submission, submission_id)
    if row is None or (principal.role == "learner" and row.learner != principal.learner):
        raise NotFound(f"There is no submission {submission_id!r} that this key may read.")
    return row.report


def list_submissions(db, principal: Principal, *, learner=None, exercise_id=None, limit=50) -> list[dict]:
    """Newest first; a learner key sees only its own learner's submissions."""
    if principal.role == "learner":
        learner = acting_learner(principal, learner)
    query = select(Submission).order_by(Submission.created_at.desc()).limit(limit)
    if learner:
        query = query.where(Submission.learner == learner)
    if exercise_id:
        query = query.where(Submission.exercise_id == exercise_id)
    return [row.report for row in db.scalars(query)]


def _meta(row: Submission) -> dict:
    meta = {name: getattr(row, name) for name in ("id", "exercise_id", "exercise_version", "kind", "learner",
                                                  "seed", "attempt")}
    return {**meta, "created_at": row.created_at.isoformat()}


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
