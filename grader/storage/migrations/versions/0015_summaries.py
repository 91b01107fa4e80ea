"""Statistics kept as they happen: a summary row per learner and exercise, the learners each
misconception slug was named for, and its counts per UTC day (grader.courses.summaries), filled from the
stored rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

from grader.courses import summaries

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

def _key():
    return [sa.Column("exercise_id", sa.String(100), primary_key=True),
            sa.Column("course_key", sa.String(100), primary_key=True)]


def upgrade():
    op.create_table(
        "learner_summaries", *_key(),
        sa.Column("learner", sa.String(200), primary_key=True),
        *(sa.Column(name, sa.Integer, nullable=False) for name in ("attempts", "bin0", "bin1", "bin2", "bin3", "bin4")),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_id", sa.String(32), nullable=False),
        sa.Column("first_correct", sa.Integer, nullable=False),
    )
    op.create_table("misconception_learners", *_key(), sa.Column("slug", sa.String(100), primary_key=True),
                    sa.Column("learner", sa.String(200), primary_key=True))
    op.create_table("misconception_days", *_key(), sa.Column("slug", sa.String(100), primary_key=True),
                    sa.Column("day", sa.String(10), primary_key=True), sa.Column("count", sa.Integer, nullable=False))
    summaries.rebuild(op.get_bind())


def downgrade():
    for table in ("misconception_days", "misconception_learners", "learner_summaries"):
        op.drop_table(table)
