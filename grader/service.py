"""Use cases behind the views: issue an instance, grade and store a submission (reading stored
reports is grader.reports; grading code in the sandbox, grader.codegrading)."""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from grader import codegrading, courses, delivery, fairshare, metrics, notebooks, ratelimit, storage, tokens
from grader.courses import summaries
from grader.lti import passback
from grader.auth import Principal, acting_learner
from grader.catalog import Exercise
from grader.catalog.exercise import ARRAY, SAMPLES
from grader.grading import code
from grader.grading.document import submission_document
from grader.grading.numeric import grade_numeric
from grader.grading.report import Report, Verdict
from grader.groups import diagnoses
from grader.problems import IdempotencyMismatch, InvalidRequest, InvalidToken, NotFound, TooManyRequests, Unavailable
from grader.sandbox.client import SandboxClient
from grader.storage.models import NewSubmission, Submission, SubmissionMisconception, utcnow
from grader.storage.prepared import Cursor


@dataclass(frozen=True)
class Context:
    """What a use case needs from the app: the catalog, the signing secret, the token lifetime and
    the sandbox client with its default limits."""

    catalog: dict[str, Exercise]
    secret: str
    token_max_age: int
    sandbox: SandboxClient | None = None
    sandbox_limits: dict = field(default_factory=dict)
    code_instances: int = 2
    rate_limits: dict = field(default_factory=dict)
    queue: object = None  # tasks.GradingQueue when QUEUE_URL is set
    allow_private_callbacks: bool = False
    kick_deliveries: object = staticmethod(lambda: None)  # wakes the outbox loop after a commit
    request_id: object = staticmethod(lambda: None)  # the current request's id, for logs across processes
    pending_stale_s: float = 600.0  # a pending submission this old was never queued, or lost: enqueue it again


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


def submit(db, ctx: Context, principal: Principal, body: dict, idempotency_key: str | None = None):
    """Grade a submission and commit it with its report before returning (report, replayed).

    A retry with the same Idempotency-Key and body returns the first report (replayed=True).
    """
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() if idempotency_key else None
    if idempotency_key:
        earlier = _replay(db, ctx, principal, idempotency_key, digest)
        if earlier is not None:
            return earlier, True
    exercise = find_exercise(ctx, body["exercise_id"])
    if body["kind"] not in exercise.info["kinds"]:
        raise InvalidRequest(f"{exercise.id} accepts {' and '.join(exercise.info['kinds'])} submissions, "
                             f"not {body['kind']}.", errors={"kind": ["not accepted by this exercise"]})
    learner = acting_learner(principal, body.get("learner"))
    courses.check_acting_for(db, principal, learner)
    _require_fields(body)
    placement = courses.place(db, principal, learner, exercise.id, body.get("assignment_id"))
    if body.get("callback_url"):
        delivery.check_callback_url(body["callback_url"], ctx.allow_private_callbacks)
    if body["kind"] == "code":  # before its sandbox job; every submission is counted (and refused) when stored
        ratelimit.check(db, ctx.rate_limits, learner=learner, exercise_id=exercise.id, key_id=principal.key_id)
    row = NewSubmission(id=uuid.uuid4().hex, exercise_id=exercise.id, exercise_version=exercise.version,
                        kind=body["kind"], learner=learner, key_id=principal.key_id, report={}, created_at=utcnow(),
                        course_id=placement.course_id, late=placement.late,
                        assignment_id=placement.assignment.id if placement.assignment else None,
                        idempotency_key=idempotency_key, request_sha256=digest, callback_url=body.get("callback_url"))
    report = _grade(db, ctx, under_policy(exercise, placement.assignment), learner, body, row)
    record(row, report, placement.penalty)
    diagnoses.annotate(db, ctx.secret, exercise, row)  # a group the course's instructor named
    queued = report.verdict is Verdict.PENDING
    try:
        owed = _store(db, ctx, principal, row, queued)
    except IntegrityError:  # a concurrent duplicate with the same Idempotency-Key committed first
        db.rollback()
        earlier = _replay(db, ctx, principal, idempotency_key, digest) if idempotency_key else None
        if earlier is None:
            raise
        return earlier, True
    if queued:
        _enqueue(db, ctx, row)
    elif owed:
        ctx.kick_deliveries()
    return row.report, False


def under_policy(exercise: Exercise, assignment) -> Exercise:
    """The exercise as an assignment grades it: an instructor may withhold credit for float32 answers."""
    return exercise.with_float32_credit(assignment.credit_float32) if assignment is not None else exercise


def _store(db, ctx, principal, row, queued: bool) -> int:
    """Count the submission against its rate limits and store it with its slug rows, summaries and
    the deliveries it owes, in one committed transaction; return how many deliveries it owes. On
    SQLite a submission that owes none is committed with those stored at the same moment."""
    slug_rows = new_slug_rows(row)  # not row.slug_rows: the relationship's events cost more than the rows
    inserts = storage.insertions(db.get_bind().dialect, row, *slug_rows)  # bound now, not while holding the lock

    def write(cursor):
        ratelimit.count(cursor, ctx.rate_limits, learner=row.learner, exercise_id=row.exercise_id,
                        key_id=principal.key_id)
        summaries.add(cursor, row, [slug_row.slug for slug_row in slug_rows])
        for insert in inserts:
            cursor.send(insert)

    def write_unlinked(cursor):
        if row.assignment_id is not None and passback.linked(cursor, row):  # linked by a launch meanwhile
            raise passback.Linked
        write(cursor)

    if not queued and storage.can_group(db) and not owes_deliveries(db, row):
        db.rollback()  # its reads are done: its connection back to the pool while the batch waits
        try:
            # a rate limit takes its counts back itself; only a duplicate Idempotency-Key needs a savepoint
            storage.group_commit(db, write_unlinked, clean=None if row.idempotency_key else CLEAN_REFUSALS)
            return 0
        except passback.Linked:
            pass
    with storage.writing(db):  # the transaction's writes and its commit, nothing slower
        try:
            write(Cursor.of(db))
        except TooManyRequests:
            db.rollback()  # at once: on SQLite the transaction holds the write lock
            raise
        owed = 0 if queued else schedule_deliveries(db, row)
        db.commit()
    return owed


CLEAN_REFUSALS = (TooManyRequests, passback.Linked)  # raised by _store's writes before anything is written


def owes_deliveries(db, row) -> bool:
    """Whether storing this graded submission may owe a message: a webhook, or a grade passback of
    an LTI-linked learner's assignment (schedule_deliveries then decides, in the same transaction)."""
    return bool(row.callback_url) or (row.assignment_id is not None and passback.linked(Cursor.of(db), row))


def schedule_deliveries(db, row) -> int:
    """The messages a graded submission owes, written in the same transaction as its report;
    returns how many (the caller wakes the delivery loop only when there are some)."""
    if row.verdict in ("pending", "invalid"):
        return 0
    owed = passback.schedule(db, row)
    if row.callback_url:
        delivery.add(db, kind="webhook", submission_id=row.id, target=row.callback_url,
                     payload={"type": "submission.graded", "timestamp": row.created_at.isoformat(), "data": row.report})
        owed += 1
    return owed


def _enqueue(db, ctx, row) -> None:
    """Hand a stored pending submission to the workers; if the broker refuses, take it back."""
    try:
        ctx.queue.enqueue(row.id, ctx.request_id())
    except Exception as exc:  # any broker failure: the submission must not stay pending forever
        with summaries.changing(db, row.exercise_id, [row.learner], [row.id]):
            db.execute(delete(Submission).where(Submission.id == row.id))  # its slug rows go with it
        db.commit()
        raise Unavailable(f"The grading queue refused the submission: {exc!r}.", headers={"Retry-After": "10"}) from exc


def tasks_pending(exercise) -> Report:
    return Report(verdict=Verdict.PENDING, score=0.0, max_score=exercise.max_score, parts=(),
                  message="Queued for grading; this report updates when a worker has graded it.")


def _require_fields(body):
    needed = ("instance_token", "answer") if body["kind"] == "numeric" else ("source",)
    if body["kind"] == "code" and "notebook" in body:
        body["source"], body["notebook_notes"] = notebooks.to_source(body.pop("notebook"))
    missing = {f: ["Missing data for required field."] for f in needed if f not in body}
    if missing:
        raise InvalidRequest(f"A {body['kind']} submission needs {' and '.join(needed)}.", errors=missing)


def _grade(db, ctx, exercise, learner, body, row):
    if body["kind"] == "numeric":
        claim = tokens.verify(ctx.secret, body["instance_token"], learner=learner, max_age=ctx.token_max_age)
        if (claim.exercise_id, claim.version) != (exercise.id, exercise.version):
            raise InvalidToken(f"The token is for {claim.exercise_id} version {claim.version}, not "
                               f"{exercise.id} version {exercise.version}; fetch a new instance.")
        row.seed, row.attempt, row.answer = claim.seed, claim.attempt, body["answer"]
        with metrics.timed_grading(exercise.id, "numeric"):
            return grade_numeric(exercise, exercise.instance(claim.seed), body["answer"])
    row.source = body["source"]
    if ctx.queue is not None:
        early = code.static_report(exercise, body["source"])
        if early is not None:
            return early
        ctx.queue.ensure_room()
        return tasks_pending(exercise)
    early = code.static_report(exercise, body["source"])
    if early is not None:
        return early
    row.hidden_seeds = codegrading.draw_seeds(ctx)
    wall_s = float(codegrading.sandbox_limits(ctx, exercise)["wall_s"])
    with fairshare.one_job_per_learner(db, learner, wall_s):
        graded = codegrading.grade_code(ctx, exercise, body["source"], row.hidden_seeds,
                                        request_id=ctx.request_id(), probes=row.course_id is not None)
    report, row.fingerprint = graded.report, graded.fingerprint
    if body.get("notebook_notes"):
        report = replace(report, message=f"{report.message} ({body['notebook_notes']})".strip())
    return report


def record(row, report, penalty):
    """Store the verdict and score; a late submission's score carries the assignment's penalty."""
    row.verdict, row.score, row.max_score = report.verdict.value, report.score, report.max_score
    row.final_score = round(report.score * (1.0 - penalty), 10)
    row.report = submission_document(report, _meta(row))  # what SubmissionSchema dumps, built directly


def index_slugs(row) -> None:
    """The stored report's misconception slugs (a course's named groups included) as rows of their
    own, replacing any earlier ones."""
    row.slug_rows = new_slug_rows(row)


def new_slug_rows(row) -> list[SubmissionMisconception]:
    return [SubmissionMisconception(submission_id=row.id, slug=slug, learner=row.learner, exercise_id=row.exercise_id,
                                    course_id=row.course_id, created_at=row.created_at)
            for slug in report_slugs(row.report)]


def report_slugs(report: dict) -> list[str]:
    return list(dict.fromkeys(m["slug"] for m in report.get("misconceptions", [])))


def _replay(db, ctx, principal, idempotency_key, digest):
    earlier = db.scalar(select(Submission).where(Submission.key_id == principal.key_id,
                                                 Submission.idempotency_key == idempotency_key))
    if earlier is None:
        return None
    if earlier.request_sha256 != digest:
        raise IdempotencyMismatch("This Idempotency-Key was used with another request body; use a new key.")
    if earlier.verdict == "pending" and ctx.queue is not None and \
            (utcnow() - earlier.created_at).total_seconds() > ctx.pending_stale_s:
        ctx.queue.enqueue(earlier.id, ctx.request_id())  # its first enqueue never happened, or was lost
    return earlier.report


def wait_for_grade(db, submission_id: str, seconds: float) -> dict:
    """The stored report, re-read until it is no longer pending or the seconds run out."""
    deadline = time.monotonic() + seconds
    while True:
        db.expire_all()
        report = db.get(Submission, submission_id).report
        if report["verdict"] != "pending" or time.monotonic() >= deadline:
            return report
        time.sleep(0.05)


def _meta(row: Submission) -> dict:
    meta = {name: getattr(row, name) for name in ("id", "exercise_id", "exercise_version", "kind", "learner",
                                                  "seed", "attempt", "course_id", "assignment_id", "late",
                                                  "final_score")}
    return {**meta, "created_at": row.created_at.isoformat()}


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
