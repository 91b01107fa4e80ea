"""Regrades: submissions made against an older version of an exercise, replayed on the current one,
as jobs that commit in batches and resume where they stopped.

A job is a row (RegradeJob) with its progress; it runs on a Celery worker when a queue is
configured, else on a background thread of the web process, or in the foreground with
`flask regrade`. Each batch commits its rows and the job's progress together, so a runner that is
killed loses at most one batch, and the next runner (a repeated request, the CLI, the queue's
redelivery) claims the job once its heartbeat is stale and continues after the last committed row.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from grader.courses import summaries
from grader.auth import Principal
from grader.grading.numeric import grade_numeric
from grader.groups import diagnoses
from grader.lti import passback
from grader.problems import NotFound
from grader.codegrading import grade_code, legacy_seeds
from grader.service import Context, find_exercise, index_slugs, record, under_policy
from grader.storage.models import RegradeJob, Submission, utcnow

logger = logging.getLogger(__name__)
BATCH = 200
STALE = timedelta(seconds=60)  # a running job whose heartbeat is older than this has lost its runner
UNFINISHED = ("queued", "running", "failed")


def start(db, ctx: Context, principal: Principal, exercise_id: str, course_id: str | None = None) -> RegradeJob:
    """The job regrading this exercise (in this course): an unfinished one is resumed, else a new one."""
    exercise = find_exercise(ctx, exercise_id)
    if principal.role == "instructor":
        course_id = principal.course_id or "\x01"  # a course-less instructor key regrades nothing
    job = db.scalar(select(RegradeJob).where(RegradeJob.exercise_id == exercise.id,
                                             _same_course(course_id), RegradeJob.status.in_(UNFINISHED))
                    .order_by(RegradeJob.created_at.desc()))
    if job is None:
        total = db.scalar(select(func.count()).select_from(Submission).where(*_outdated(exercise, course_id)))
        job = RegradeJob(id=uuid.uuid4().hex, exercise_id=exercise.id, course_id=course_id, status="queued",
                         total=total, done=0, changed=0)
        db.add(job)
        db.commit()
    elif job.status == "failed":  # asked again: resume after its last committed batch
        job.status, job.error, job.updated_at = "queued", None, utcnow()
        db.commit()
    return job


def get(db, principal: Principal, job_id: str) -> RegradeJob:
    job = db.get(RegradeJob, job_id)
    if job is None or (principal.role == "instructor" and job.course_id != principal.course_id):
        raise NotFound(f"There is no regrade {job_id!r} that this key may read.")
    return job


def run(db, ctx: Context, job_id: str, batch: int = BATCH) -> RegradeJob:
    """Claim the job and regrade its rows batch by batch; returns it done, or failed with the error
    (then it resumes after its last committed batch when run again)."""
    if not _claim(db, job_id):
        return db.get(RegradeJob, job_id)
    job = db.get(RegradeJob, job_id)
    exercise = find_exercise(ctx, job.exercise_id)
    try:
        while True:
            rows = list(db.scalars(select(Submission).where(*_outdated(exercise, job.course_id), *_after(job))
                                   .order_by(Submission.id).limit(batch)))  # the primary key's order: no sort
            if not rows:
                break
            owed = 0
            with summaries.changing(db, exercise.id, {row.learner for row in rows}, [row.id for row in rows]):
                for row in rows:
                    changed, sent = _regrade_row(db, ctx, exercise, row)
                    job.changed += changed
                    owed += sent
            job.done += len(rows)
            job.after_created_at, job.after_id = rows[-1].created_at, rows[-1].id  # where to resume
            job.updated_at = utcnow()
            db.commit()  # this batch's rows and the job's progress together
            db.expunge_all()
            job = db.get(RegradeJob, job_id)
            if owed:
                ctx.kick_deliveries()
        job.changed += _rediagnose(db, ctx, exercise, job.course_id)
        job.status, job.updated_at = "done", utcnow()
        db.commit()
    except Exception as exc:  # any failure of a row (the sandbox down, a bug): stop, keep what is committed
        db.rollback()
        logger.exception("regrade %s stopped", job_id)
        db.execute(update(RegradeJob).where(RegradeJob.id == job_id).values(
            status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=utcnow()))
        db.commit()
    return db.get(RegradeJob, job_id)


def _regrade_row(db, ctx, exercise, row) -> tuple[int, int]:
    """Regrade one stored submission; (changed, passbacks owed)."""
    old = row.report
    graded_as = under_policy(exercise, row.assignment)  # the assignment's float32 credit
    if row.kind == "numeric":
        report = grade_numeric(graded_as, exercise.instance(row.seed), row.answer)
    else:
        seeds = row.hidden_seeds or legacy_seeds(ctx, exercise, row.learner)  # the same hidden instances
        graded = grade_code(ctx, graded_as, row.source, seeds, probes=row.course_id is not None)
        report, row.fingerprint = graded.report, graded.fingerprint
    penalty = row.assignment.late_penalty if (row.late and row.assignment_id) else 0.0
    row.history = [*(row.history or []), old]
    row.exercise_version = exercise.version
    record(row, report, penalty)
    diagnoses.annotate(db, ctx.secret, exercise, row)  # a group the course's instructor named
    index_slugs(row)
    if (old["verdict"], old["score"]) == (row.verdict, row.score):
        return 0, 0
    db.flush()  # the gradebook read by the passback must see the new score
    return 1, passback.schedule(db, row)  # the LMS shows the gradebook's score: resend it


def _rediagnose(db, ctx, exercise, course_id) -> int:
    """Current-version code submissions whose course diagnosis changes (a group named since): their
    stored fingerprints are compared, nothing runs again. Returns how many changed."""
    query = select(Submission).where(Submission.exercise_id == exercise.id, Submission.kind == "code",
                                     Submission.exercise_version == exercise.version,
                                     Submission.fingerprint.is_not(None), Submission.course_id.is_not(None))
    if course_id:
        query = query.where(Submission.course_id == course_id)
    rows, changed = list(db.scalars(query.order_by(Submission.id))), 0
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        with summaries.changing(db, exercise.id, {row.learner for row in chunk}, [row.id for row in chunk]):
            for row in chunk:
                old = row.report
                if diagnoses.annotate(db, ctx.secret, exercise, row):
                    row.history = [*(row.history or []), old]
                    index_slugs(row)
                    changed += 1
    return changed


def _claim(db, job_id: str) -> bool:
    """Take the job unless another runner holds it (a running job with a fresh heartbeat)."""
    now = utcnow()
    taken = db.execute(update(RegradeJob).where(
        RegradeJob.id == job_id, RegradeJob.status != "done",
        or_(RegradeJob.status != "running", RegradeJob.updated_at < now - STALE))
        .values(status="running", error=None, updated_at=now)).rowcount
    db.commit()
    return bool(taken)


def _outdated(exercise, course_id):
    where = [Submission.exercise_id == exercise.id, Submission.exercise_version != exercise.version,
             Submission.verdict != "pending"]
    if course_id:
        where.append(Submission.course_id == course_id)
    return where


def _after(job):
    return [] if job.after_id is None else [Submission.id > job.after_id]


def _same_course(course_id):
    return RegradeJob.course_id.is_(None) if course_id is None else RegradeJob.course_id == course_id


def run_in_background(app, job_id: str) -> None:
    """In-process default: a daemon thread with its own app context and session."""
    from grader import storage

    def target():
        with app.app_context():
            run(storage.session(app), app.extensions["grader.context"], job_id)
    threading.Thread(target=target, daemon=True, name=f"regrade-{job_id[:8]}").start()


def as_dict(job: RegradeJob) -> dict:
    return {"id": job.id, "exercise_id": job.exercise_id, "course_id": job.course_id, "status": job.status,
            "total": job.total, "done": job.done, "changed": job.changed, "error": job.error,
            "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat()}
