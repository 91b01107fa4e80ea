"""Courses, enrollments, assignments; submissions record course, assignment, lateness,
idempotency key and earlier reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "courses",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("course_id", sa.String(100), sa.ForeignKey("courses.id"), primary_key=True),
        sa.Column("learner", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.String(100), sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("max_attempts", sa.Integer),
        sa.Column("late_policy", sa.String(16), nullable=False),
        sa.Column("late_penalty", sa.Float, nullable=False),
        sa.Column("scoring", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("course_id", sa.String(100)))
        batch.create_foreign_key("fk_api_keys_course", "courses", ["course_id"], ["id"])
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("course_id", sa.String(100)))
        batch.add_column(sa.Column("assignment_id", sa.Integer))
        batch.add_column(sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("final_score", sa.Float))
        batch.add_column(sa.Column("idempotency_key", sa.String(200)))
        batch.add_column(sa.Column("request_sha256", sa.String(64)))
        batch.add_column(sa.Column("history", sa.JSON))
        batch.create_foreign_key("fk_submissions_course", "courses", ["course_id"], ["id"])
        batch.create_foreign_key("fk_submissions_assignment", "assignments", ["assignment_id"], ["id"])
        batch.create_unique_constraint("uq_submissions_idempotency", ["key_id", "idempotency_key"])
    op.create_index("ix_submissions_course_assignment", "submissions", ["course_id", "assignment_id"])
    op.create_index("ix_submissions_created", "submissions", ["created_at"])


def downgrade():
    op.drop_index("ix_submissions_created", table_name="submissions")
    op.drop_index("ix_submissions_course_assignment", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_idempotency", type_="unique")
        batch.drop_constraint("fk_submissions_assignment", type_="foreignkey")
        batch.drop_constraint("fk_submissions_course", type_="foreignkey")
        for column in ("history", "request_sha256", "idempotency_key", "final_score", "late", "assignment_id",
                       "course_id"):
            batch.drop_column(column)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_course", type_="foreignkey")
        batch.drop_column("course_id")
    op.drop_table("assignments")
    op.drop_table("enrollments")
    op.drop_table("courses")
