"""SQLAlchemy 2 models: keys, courses, enrollments, assignments and submissions with their reports."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Enrollment(Base):
    """A learner (by the external id an LMS sends) in a course."""

    __tablename__ = "enrollments"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    learner: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """An exercise in a course: when it opens and is due, attempts, late policy, scoring rule."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    exercise_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    late_policy: Mapped[str] = mapped_column(String(16), default="refuse")
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)
    scoring: Mapped[str] = mapped_column(String(8), default="best")
    credit_float32: Mapped[bool] = mapped_column(Boolean, default=True)  # answers right to float32 precision
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Submission(Base):
    """One graded submission: what was sent and the report that was returned."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_learner_exercise", "learner", "exercise_id"),
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    final_score: Mapped[float | None] = mapped_column(Float)  # score after the late penalty
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    history: Mapped[list | None] = mapped_column(JSON)  # earlier reports, kept by regrades
    grading_attempts: Mapped[int] = mapped_column(Integer, default=0)  # queued grading: deliveries so far
    callback_url: Mapped[str | None] = mapped_column(String(2000))  # the report is POSTed here when graded
    graded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assignment: Mapped[Assignment | None] = relationship(lazy="select")


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

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    submission_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict] = mapped_column(JSON)
    event_timestamp: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, delivered, failed
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiLaunchData(Base):
    """pylti1p3's launch storage: OIDC state and nonce, and launch claims for deep linking."""

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[dict | list | str | bool | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
