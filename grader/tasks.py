"""Asynchronous grading on Celery and Redis: code submissions are stored as pending, queued, and
graded by workers that run the same sandbox client; late acknowledgement, redelivery and a
conditional final write make each submission graded exactly once."""
from __future__ import annotations

import logging
from datetime import timedelta

import redis
from celery import Celery, Task
from sqlalchemy import insert, literal_column, select, update

from grader import codegrading, service, storage
from grader.courses import summaries
from grader.catalog import get_catalog
from grader.grading.report import PartResult, Report, Verdict
from grader.groups import diagnoses
from grader.problems import Unavailable
from grader.storage.models import Submission, SubmissionMisconception, utcnow

logger = logging.getLogger(__name__)
QUEUE = "grading"
EXTENSION = "grader.queue"


class GradingQueue:
    """The web tier's view of the queue: how full it is, and how to add a submission to it."""

    def __init__(self, celery: Celery, url: str, maximum: int):
        self.celery, self.maximum = celery, maximum
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def depth(self) -> int:
        return int(self.redis.llen(QUEUE))

    def ensure_room(self) -> None:
        try:
            depth = self.depth()
        except redis.RedisError as exc:
            raise Unavailable(f"The grading queue does not answer: {exc}.", headers={"Retry-After": "10"}) from exc
        if depth >= self.maximum:
            raise Unavailable(f"The grading queue is full ({depth} submissions waiting); try again shortly.",
                              headers={"Retry-After": "30"})

    def enqueue_regrade(self, job_id: str) -> None:
        self.celery.send_task("grader.regrade", args=[job_id], queue=QUEUE)

    def enqueue(self, submission_id: str, request_id: str | None) -> None:
        self.celery.send_task("grader.grade_submission", args=[submission_id], kwargs={"request_id": request_id},
                              queue=QUEUE)


def init_app(app) -> None:
    """With QUEUE_URL set, make the Celery app (kept on the app) and the queue the service uses."""
    if not app.config["QUEUE_URL"]:
        return
    celery = Celery(app.import_name, broker=app.config["QUEUE_URL"])
    celery.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, task_serializer="json", accept_content=["json"], task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # a dead worker's task goes back to the queue after the visibility timeout, found by sweeps this often
        broker_transport_options={"visibility_timeout": app.config["QUEUE_VISIBILITY_TIMEOUT_S"],
                                  "unacked_restore_interval": max(1, app.config["QUEUE_VISIBILITY_TIMEOUT_S"] // 4),
                                  "unacked_restore_throttle": 1})

    class AppTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    @celery.task(name="grader.grade_submission", bind=True, base=AppTask, max_retries=5)
    def grade_submission(self, submission_id, request_id=None):
        try:
            return grade_queued(app, submission_id, request_id)
        except Unavailable as exc:  # the sandbox is down: try again later, the submission stays pending
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 30))

    @celery.task(name="grader.regrade", base=AppTask)
    def regrade_job(job_id):
        from grader.courses import regrade
        return regrade.run(storage.session(app), app.extensions["grader.context"], job_id).status

    @celery.task(name="grader.sweep_pending", base=AppTask)
    def sweep(older_than_s=None):
        # one sweep per period across the cluster: every beat of every host may call it
        lock = redis.Redis.from_url(app.config["QUEUE_URL"]).set("grader:sweep-lock", "1", nx=True,
                                                                 ex=max(1, app.config["QUEUE_SWEEP_EVERY_S"] - 1))
        return sweep_pending(app, older_than_s) if lock else 0

    celery.conf.beat_schedule = {"sweep-pending": {"task": "grader.sweep_pending",
                                                   "schedule": float(app.config["QUEUE_SWEEP_EVERY_S"])}}
    app.extensions["celery"] = celery
    app.extensions[EXTENSION] = GradingQueue(celery, app.config["QUEUE_URL"], app.config["QUEUE_MAX"])


def grade_queued(app, submission_id: str, request_id: str | None = None) -> str:
    """Claim a pending submission, grade it, and write the report only if it is still pending."""
    db = storage.session(app)
    claimed = db.execute(update(Submission).where(Submission.id == submission_id, Submission.verdict == "pending")
                         .values(grading_attempts=Submission.grading_attempts + 1)).rowcount
    db.commit()
    if not claimed:
        logger.info("submission already graded", extra={"submission_id": submission_id, "request_id": request_id})
        return "already-graded"
    row = db.get(Submission, submission_id)
    penalty = row.assignment.late_penalty if (row.late and row.assignment_id) else 0.0
    exercise = service.under_policy(get_catalog(app)[row.exercise_id], row.assignment)
    db.expunge(row)  # the report is written by the conditional UPDATE below, never by a flush of this object
    ctx = app.extensions["grader.context"]
    if row.grading_attempts > app.config["GRADING_MAX_ATTEMPTS"]:
        report = _given_up(exercise, row.grading_attempts - 1)
    else:
        row.hidden_seeds = row.hidden_seeds or codegrading.draw_seeds(ctx)
        graded = codegrading.grade_code(ctx, exercise, row.source, row.hidden_seeds, request_id=request_id,
                                    probes=row.course_id is not None)
        report, row.fingerprint = graded.report, graded.fingerprint
    service.record(row, report, penalty)
    diagnoses.annotate(db, ctx.secret, exercise, row)
    with summaries.changing(db, row.exercise_id, [row.learner], [row.id]):
        still_pending = (Submission.id == submission_id, Submission.verdict == "pending")
        written = db.execute(update(Submission).where(*still_pending).values(
            verdict=row.verdict, score=row.score, max_score=row.max_score, final_score=row.final_score,
            report=row.report, graded_at=utcnow(), hidden_seeds=row.hidden_seeds, fingerprint=row.fingerprint)
            .execution_options(synchronize_session=False)).rowcount
        slugs = service.report_slugs(row.report)  # after the course's named groups were matched
        if written and slugs:  # the row is detached: its slug rows are inserted here
            db.execute(insert(SubmissionMisconception), [
                {"submission_id": row.id, "slug": slug, "learner": row.learner, "exercise_id": row.exercise_id,
                 "course_id": row.course_id, "created_at": row.created_at} for slug in slugs])
    owed = service.schedule_deliveries(db, row) if written else 0
    db.commit()
    if owed:
        ctx.kick_deliveries()
    logger.info("submission graded", extra={"submission_id": submission_id, "request_id": request_id,
                                            "verdict": row.verdict, "written": bool(written)})
    return row.verdict if written else "already-graded"


def _given_up(exercise, deliveries: int) -> Report:
    message = (f"This submission could not be graded after {deliveries} deliveries to the grading workers "
               "(it stopped a worker each time); it is marked as an error so it is not retried forever.")
    part = PartResult(name="source", verdict=Verdict.ERROR, score=0.0, max_score=0.0, message=message)
    return Report(verdict=Verdict.ERROR, score=0.0, max_score=exercise.max_score, parts=(part,), message=message)


def sweep_pending(app, older_than_s: float | None = None) -> int:
    """Enqueue again every submission still pending after older_than_s (default QUEUE_SWEEP_AFTER_S):
    a web worker that died between its commit and its enqueue left it unqueued. A duplicate of a
    message that was only slow is harmless: the first delivery grades, the second finds it graded."""
    older_than_s = app.config["QUEUE_SWEEP_AFTER_S"] if older_than_s is None else older_than_s
    queue = app.extensions[EXTENSION]
    db = storage.session(app)
    stale = list(db.scalars(select(Submission.id).where(
        # the literal, not a parameter: a generic plan on PostgreSQL could not use the partial index
        Submission.verdict == literal_column("'pending'"),
        Submission.created_at < utcnow() - timedelta(seconds=older_than_s),
        Submission.grading_attempts <= app.config["GRADING_MAX_ATTEMPTS"])))
    for submission_id in stale:
        queue.enqueue(submission_id, None)
    if stale:
        logger.warning("re-enqueued stale pending submissions", extra={"count": len(stale)})
    return len(stale)
