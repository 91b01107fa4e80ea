"""Fewer B-trees per stored submission: every index of `submissions` is written with every row, and
on SQLite's single writer that is most of a submission's commit.

- ix_submissions_learner_exercise (learner, exercise_id) goes: ix_submissions_learner_created
  (learner, created_at, id) serves a learner's reads, which filter the rest.
- ix_submissions_course_assignment (course_id, assignment_id) goes: the course's covering index
  ix_submissions_course_learner serves its reads (which name the course).
- ix_submissions_verdict (verdict) becomes ix_submissions_pending (created_at) for pending rows only:
  the queue's sweep is the only reader of a verdict, and it asks for pending ones.
- The two course indexes hold only rows of a course (course_id IS NOT NULL): every reader of them
  names a course, and a submission outside any course no longer writes them.
- ix_enrollments_course_learner goes: it repeated the enrollments' primary key.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

IN_A_COURSE = sa.text("course_id IS NOT NULL")
PENDING = sa.text("verdict = 'pending'")
COURSE_INDEXES = {
    "ix_submissions_course_learner": ["course_id", "learner", "assignment_id", "created_at", "id", "verdict",
                                      "final_score", "max_score", "late"],
    "ix_submissions_course_created": ["course_id", "created_at", "id"],
}


def upgrade():
    op.drop_index("ix_submissions_learner_exercise", table_name="submissions")
    op.drop_index("ix_submissions_course_assignment", table_name="submissions")
    op.drop_index("ix_submissions_verdict", table_name="submissions")
    op.create_index("ix_submissions_pending", "submissions", ["created_at"],
                    sqlite_where=PENDING, postgresql_where=PENDING)
    for name, columns in COURSE_INDEXES.items():
        op.drop_index(name, table_name="submissions")
        op.create_index(name, "submissions", columns, sqlite_where=IN_A_COURSE, postgresql_where=IN_A_COURSE)
    op.drop_index("ix_enrollments_course_learner", table_name="enrollments")


def downgrade():
    op.create_index("ix_enrollments_course_learner", "enrollments", ["course_id", "learner"])
    for name, columns in COURSE_INDEXES.items():
        op.drop_index(name, table_name="submissions")
        op.create_index(name, "submissions", columns)
    op.drop_index("ix_submissions_pending", table_name="submissions")
    op.create_index("ix_submissions_verdict", "submissions", ["verdict"])
    op.create_index("ix_submissions_course_assignment", "submissions", ["course_id", "assignment_id"])
    op.create_index("ix_submissions_learner_exercise", "submissions", ["learner", "exercise_id"])
