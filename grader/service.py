"""Use cases behind the views: issue an instance, grade and store a submission, read submissions."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from grader import courses, delivery, fairshare, metrics, notebooks, ratelimit, storage, summaries, tokens
from grader.lti import passback
from grader.auth import Principal, acting_learner, may_read
from grader.catalog import Exercise
from grader.catalog.exercise import ARRAY, SAMPLES
from grader.grading import code, series
from grader.grading.document import submission_document
from grader.grading.numeric import grade_numeric
from grader.grading.report import Report, Verdict
from grader.groups import diagnoses, fingerprint
from grader.problems import Forbidden, IdempotencyMismatch, InvalidRequest, InvalidToken, NotFound, Unavailable
from grader.sandbox.client import SandboxClient, SandboxUnavailable
from grader.storage.models import Submission, SubmissionMisconception, utcnow


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
    row = Submission(id=uuid.uuid4().hex, exercise_id=exercise.id, exercise_version=exercise.version,
                     kind=body["kind"], learner=learner, key_id=principal.key_id, report={}, created_at=utcnow(),
                     course_id=placement.course_id, late=placement.late,
                     assignment_id=placement.assignment.id if placement.assignment else None,
                     idempotency_key=idempotency_key, request_sha256=digest, callback_url=body.get("callback_url"))
    report = _grade(db, ctx, under_policy(exercise, placement.assignment), learner, body, row)
    record(row, report, placement.penalty)
    diagnoses.annotate(db, ctx.secret, exercise, row)  # a group the course's instructor named
    index_slugs(row)
    queued = report.verdict is Verdict.PENDING
    try:
        with storage.writing(db):  # the transaction's writes and its commit, nothing slower
            ratelimit.count(db, ctx.rate_limits, learner=learner, exercise_id=exercise.id, key_id=principal.key_id)
            summaries.add(db, row, report_slugs(row.report))
            storage.insert_new(db, row, *row.slug_rows)
            owed = 0 if queued else schedule_deliveries(db, row)
            db.commit()
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
    row.hidden_seeds = draw_seeds(ctx)
    with fairshare.one_job_per_learner(db, learner, float(sandbox_limits(ctx, exercise)["wall_s"])):
        graded = grade_code(ctx, exercise, body["source"], row.hidden_seeds, request_id=ctx.request_id(),
                            probes=row.course_id is not None)
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
    row.slug_rows = [SubmissionMisconception(submission_id=row.id, slug=slug, learner=row.learner,
                                             exercise_id=row.exercise_id, course_id=row.course_id,
                                             created_at=row.created_at) for slug in report_slugs(row.report)]


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


def draw_seeds(ctx: Context) -> list[int]:
    """Seeds of a code submission's hidden instances: fresh for every submission, so inputs that a
    job manages to learn are of no use to the next one; stored with the submission for replay."""
    return [secrets.randbits(62) for _ in range(ctx.code_instances)]


def legacy_seeds(ctx: Context, exercise: Exercise, learner: str) -> list[int]:
    """The per-learner seeds that submissions stored before hidden_seeds existed were graded on."""
    return [tokens.derive_seed(ctx.secret, exercise.id, exercise.version, learner, -(k + 1))
            for k in range(ctx.code_instances)]


def sandbox_limits(ctx: Context, exercise: Exercise) -> dict:
    return {**ctx.sandbox_limits, **exercise.info.get("limits", {})}


@dataclass(frozen=True)
class CodeGrade:
    """A code submission's report, and its fingerprint on the probe instances when it is wrong."""

    report: Report
    fingerprint: dict | None = None


def grade_code_submission(ctx: Context, exercise: Exercise, source: str, seeds: list[int], request_id=None):
    """The report of grade_code, without probes (for callers that keep no fingerprint)."""
    return grade_code(ctx, exercise, source, seeds, request_id, probes=False).report


def grade_code(ctx: Context, exercise: Exercise, source: str, seeds: list[int], request_id=None, *,
               probes: bool = True) -> CodeGrade:
    """Static checks, then the hidden instances of these seeds (never shown) in the sandbox; with
    probes, the exercise version's probe instances in the same job (same limits): a wrong
    submission's outputs on them are its fingerprint for answer groups. Groups are per course, so
    callers ask for probes only for a submission of a course."""
    early = code.static_report(exercise, source)
    if early is not None:
        return CodeGrade(early)
    if ctx.sandbox is None:
        raise Unavailable("Code submissions need the sandbox, and none is configured.")
    regular = [exercise.instance(seed) for seed in seeds]
    edges = exercise.edge_instances(seeds[0])
    probes = fingerprint.probe_instances(ctx.secret, exercise) if probes else []
    limits = sandbox_limits(ctx, exercise)
    try:
        with metrics.timed_grading(exercise.id, "code"):
            outcome = ctx.sandbox.run(source, exercise.info["entry_point"],
                                      [i.params for i in regular + edges + probes], limits, request_id=request_id,
                                      autograd=exercise.info["autograd"] == "allowed", torch=code.names_torch(source))
        metrics.sandbox_outcome(outcome.status)
    except SandboxUnavailable as exc:
        metrics.sandbox_outcome("unavailable")
        raise Unavailable(f"Code submissions cannot be graded now: {exc}", headers={"Retry-After": "30"}) from exc
    if outcome.status == "setup-failed":
        raise Unavailable("The sandbox could not set up its isolation layers; nothing was run.",
                          headers={"Retry-After": "30"})
    graded, probe_entries = fingerprint.split_outcome(outcome, len(regular) + len(edges), len(probes),
                                                      int(limits.get("result_bytes", 4 << 20)) // 8)
    report = code.outcome_report(exercise, regular, edges, graded, limits, source)
    wrong = report.verdict in (Verdict.INCORRECT, Verdict.PARTIALLY_CORRECT) and bool(probes) \
        and probe_entries is not None
    return CodeGrade(report, fingerprint.from_entries(exercise, probes, probe_entries) if wrong else None)


def get_submission(db, principal: Principal, submission_id: str) -> dict:
    row = db.get(Submission, submission_id)
    if row is None or not may_read(principal, row.learner, row.course_id):
        raise NotFound(f"There is no submission {submission_id!r} that this key may read.")
    return row.report


def step_errors(db, ctx: Context, principal: Principal, submission_id: str) -> dict:
    """Per time step, the relative error of each time-indexed part of a numeric answer (2 significant
    digits, like the report's errors): what the report page plots, for clients that draw it."""
    get_submission(db, principal, submission_id)  # the same authorization as the report
    row = db.get(Submission, submission_id)
    exercise = ctx.catalog.get(row.exercise_id)
    if row.kind != "numeric" or not row.answer or exercise is None or row.exercise_version != exercise.version:
        return {"id": row.id, "parts": {}}
    steps = series.step_errors(exercise, exercise.instance(row.seed), row.answer)
    return {"id": row.id, "parts": {name: [[t, float(f"{error:.2g}")] for t, error in points]
                                    for name, points in steps.items()}}


def list_submissions(db, principal: Principal, *, learner=None, exercise_id=None, course_id=None,
                     limit=50, cursor=None) -> tuple[list[dict], str | None]:
    """Newest first, a page at a time: (reports, the cursor of the next page or None). A learner key
    sees only its own learner's, an instructor key only its course's. Keyset pagination on
    (created_at, id): a page costs the same however many rows come before it."""
    if principal.role == "learner":
        learner = acting_learner(principal, learner)
    if principal.role == "instructor":
        if course_id not in (None, principal.course_id):
            raise Forbidden(f"This instructor key is for course {principal.course_id!r}.")
        if principal.course_id is None:  # an instructor key without a course sees nothing
            return [], None
        course_id = principal.course_id
    query = select(Submission.report, Submission.created_at, Submission.id).order_by(
        Submission.created_at.desc(), Submission.id.desc()).limit(limit + 1)
    for column, value in ((Submission.learner, learner), (Submission.exercise_id, exercise_id),
                          (Submission.course_id, course_id)):
        if value:
            query = query.where(column == value)
    if cursor:
        at, row_id = _read_cursor(cursor)
        query = query.where(or_(Submission.created_at < at, and_(Submission.created_at == at, Submission.id < row_id)))
    rows = db.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [r.report for r in rows], (_cursor(rows[-1].created_at, rows[-1].id) if more else None)


def _cursor(created_at, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def _read_cursor(cursor: str):
    try:
        at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), row_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this service gave out; start without it.",
                             errors={"cursor": ["not a cursor"]}) from None


def _meta(row: Submission) -> dict:
    meta = {name: getattr(row, name) for name in ("id", "exercise_id", "exercise_version", "kind", "learner",
                                                  "seed", "attempt", "course_id", "assignment_id", "late",
                                                  "final_score")}
    return {**meta, "created_at": row.created_at.isoformat()}


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
