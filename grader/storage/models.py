"""SQLAlchemy 2 models: keys, courses, enrollments, assignments and submissions with their reports."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from grader.storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """A bearer key: its public id, the SHA-256 of its secret part, and what it may do."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    learner: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(200))
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrollment(Base):
    """A learner (by the external id an LMS sends) in a course."""

    __tablename__ = "enrollments"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    learner: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))  # as the LMS roster gives it (NRPS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assignment(Base):
    """An exercise in a course: when it opens and is due, attempts, late policy, scoring rule."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    late_policy: Mapped[str] = mapped_column(String(16), default="refuse")
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)
    scoring: Mapped[str] = mapped_column(String(8), default="best")
    credit_float32: Mapped[bool] = mapped_column(Boolean, default=True)  # answers right to float32 precision
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


PENDING, IN_A_COURSE = text("verdict = 'pending'"), text("course_id IS NOT NULL")  # partial indexes


class Submission(Base):
    """One graded submission: what was sent and the report that was returned."""

    __tablename__ = "submissions"
    # Every index is written with each row it holds (migration 0016 keeps only what a reader uses).
    __table_args__ = (
        Index("ix_submissions_created", "created_at"),  # listings of every submission (an admin's)
        Index("ix_submissions_pending", "created_at", sqlite_where=PENDING, postgresql_where=PENDING),  # the queue's sweep
        # covering indexes of the gradebook and the statistics (migration 0012); the course's hold its rows only
        Index("ix_submissions_course_learner", "course_id", "learner", "assignment_id", "created_at", "id", "verdict",
              "final_score", "max_score", "late", sqlite_where=IN_A_COURSE, postgresql_where=IN_A_COURSE),
        Index("ix_submissions_course_created", "course_id", "created_at", "id",
              sqlite_where=IN_A_COURSE, postgresql_where=IN_A_COURSE),
        Index("ix_submissions_exercise_course", "exercise_id", "course_id", "learner", "created_at", "id", "verdict",
              "score", "max_score"),
        Index("ix_submissions_learner_created", "learner", "created_at", "id"),
        UniqueConstraint("key_id", "idempotency_key", name="uq_submissions_idempotency"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(100))
    exercise_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    learner: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    seed: Mapped[int | None] = mapped_column(BigInteger)
    attempt: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    report: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    final_score: Mapped[float | None] = mapped_column(Float)  # score after the late penalty
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    history: Mapped[list | None] = mapped_column(JSON)  # earlier reports, kept by regrades
    grading_attempts: Mapped[int] = mapped_column(Integer, default=0)  # queued grading: deliveries so far
    callback_url: Mapped[str | None] = mapped_column(String(2000))  # the report is POSTed here when graded
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # code: the seeds of the hidden instances, drawn fresh for this submission (never shown; replayed by regrades)
    hidden_seeds: Mapped[list | None] = mapped_column(JSON)
    # code, when wrong: its outputs on the exercise version's probe instances (grader/groups)
    fingerprint: Mapped[dict | None] = mapped_column(JSON)
    assignment: Mapped[Assignment | None] = relationship(lazy="select")
    # the report's misconception slugs, indexed apart for analytics (see SubmissionMisconception)
    slug_rows: Mapped[list["SubmissionMisconception"]] = relationship(
        lazy="select", cascade="all, delete-orphan", passive_deletes=True)


class NewSubmission:
    """A submission being graded and stored by service.submit: Submission's columns as plain
    attributes, each starting at its Python default or None. On the numeric path an ORM instance's
    attribute events cost more than the comparison of the answer; storage.insertions inserts this
    as it inserts a new ORM row, and every reader of a submission reads it alike."""

    __table__ = Submission.__table__

    def __init__(self, **values):
        self.__dict__.update(_NEW_SUBMISSION_DEFAULTS)
        self.__dict__.update(values)


_NEW_SUBMISSION_DEFAULTS = {column.key: column.default.arg if column.default is not None and column.default.is_scalar
                            else None for column in Submission.__table__.columns}


class SubmissionMisconception(Base):
    """One misconception slug a submission's report names, kept apart from the report JSON so that
    analytics aggregate an index instead of parsing reports. Written with every report."""

    __tablename__ = "submission_misconceptions"
    __table_args__ = (Index("ix_misconceptions_exercise_course", "exercise_id", "course_id", "slug", "learner"),)

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    learner: Mapped[str] = mapped_column(String(200))
    exercise_id: Mapped[str] = mapped_column(String(100))
    course_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearnerSummary(Base):
    """One learner's attempts at one exercise in one course ('' for none), kept as submissions are
    stored (grader.courses.summaries): what an exercise's statistics add up."""

    __tablename__ = "learner_summaries"

    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    course_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    learner: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    bin0: Mapped[int] = mapped_column(Integer)
    bin1: Mapped[int] = mapped_column(Integer)
    bin2: Mapped[int] = mapped_column(Integer)
    bin3: Mapped[int] = mapped_column(Integer)
    bin4: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_id: Mapped[str] = mapped_column(String(32))
    first_correct: Mapped[int] = mapped_column(Integer)


class MisconceptionLearner(Base):
    """A learner whose report named a slug, per exercise and course ('' for none)."""

    __tablename__ = "misconception_learners"

    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    course_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    learner: Mapped[str] = mapped_column(String(200), primary_key=True)


class MisconceptionDay(Base):
    """How many reports named a slug on one UTC day, per exercise and course ('' for none)."""

    __tablename__ = "misconception_days"

    exercise_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    course_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class RegradeJob(Base):
    """A regrade of one exercise (in one course, or everywhere), run in batches that commit as they
    go; after_created_at/after_id mark the last row regraded, so a stopped job resumes there."""

    __tablename__ = "regrade_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(100))
    course_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    after_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    after_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseDiagnosis(Base):
    """An answer group named by an instructor: later code submissions of the course whose
    fingerprint matches the group's are diagnosed with it, like a catalogued misconception."""

    __tablename__ = "course_diagnoses"
    __table_args__ = (UniqueConstraint("course_id", "slug", name="uq_course_diagnosis_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    exercise_version: Mapped[int] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    equation: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[dict] = mapped_column(JSON)  # the group's first submission's
    created_by: Mapped[str | None] = mapped_column(String(32))  # the key id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Heartbeat(Base):
    """Written by every health check: storage is 'ok' only when it takes a write."""

    __tablename__ = "heartbeats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)


class CodeJob(Base):
    """A learner's code job in flight (in-process grading): one at a time per learner. A row past
    expires_at was left by a worker that died and may be taken over."""

    __tablename__ = "code_jobs"

    learner: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds


class RateCounter(Base):
    """Submissions counted in one fixed window of one rate-limit bucket."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(420), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class Delivery(Base):
    """One outbound message (a webhook, a score passback), stored with the result it carries and
    retried with backoff. Its id and event timestamp are fixed once and replayed on every retry."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)  # the worker's next due

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    submission_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict] = mapped_column(JSON)
    event_timestamp: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, delivered, failed
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiRegistration(Base):
    """A platform registered by an admin: issuer, client id, its endpoints and deployments."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registration"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    auth_login_url: Mapped[str] = mapped_column(String(2000))
    auth_token_url: Mapped[str] = mapped_column(String(2000))
    key_set_url: Mapped[str] = mapped_column(String(2000))
    deployment_ids: Mapped[list] = mapped_column(JSON)
    audience: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiLink(Base):
    """What a launch told us about a learner and an assignment: who they are on the platform and
    where their score goes (the AGS line item and scopes)."""

    __tablename__ = "lti_links"
    __table_args__ = (UniqueConstraint("learner", "assignment_id", name="uq_lti_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner: Mapped[str] = mapped_column(String(200))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    user_sub: Mapped[str] = mapped_column(String(500))
    lineitem_url: Mapped[str | None] = mapped_column(String(2000))
    scopes: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of the last score sent


class LtiResourceLink(Base):
    """A link placed in an LMS course: the assignment it stands for and its own AGS line item. Two
    links to one exercise in one course share the assignment; each line item receives its score."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("issuer", "client_id", "deployment_id", "resource_link_id",
                                       name="uq_lti_resource_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    deployment_id: Mapped[str] = mapped_column(String(500))
    resource_link_id: Mapped[str] = mapped_column(String(500))
    lineitem_url: Mapped[str | None] = mapped_column(String(2000))  # found or made by the tool when absent
    lineitems_url: Mapped[str | None] = mapped_column(String(2000))
    scopes: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiContext(Base):
    """The LMS course behind a course of the tool, and its NRPS roster endpoint when the launch gave one."""

    __tablename__ = "lti_contexts"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    context_id: Mapped[str] = mapped_column(String(500))
    memberships_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LtiLaunchData(Base):
    """pylti1p3's launch storage: OIDC state and nonce, and launch claims for deep linking."""

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[dict | list | str | bool | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
