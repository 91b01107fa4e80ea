"""Scale: the misconception slugs of each submission in their own indexed table, indexes for the
gradebook, statistics and listings, and regrade jobs that commit in batches and resume.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GRADEBOOK_COLUMNS = ["course_id", "learner", "assignment_id", "created_at", "id", "verdict", "final_score",
                     "max_score", "late"]
STATS_COLUMNS = ["exercise_id", "course_id", "learner", "created_at", "id", "verdict", "score", "max_score"]


def upgrade():
    op.create_table(
        "submission_misconceptions",
        sa.Column("submission_id", sa.String(32), sa.ForeignKey("submissions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("slug", sa.String(100), primary_key=True),
        sa.Column("learner", sa.String(200), nullable=False),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("course_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_misconceptions_exercise_course", "submission_misconceptions",
                    ["exercise_id", "course_id", "slug", "learner"])
    # covering indexes: the gradebook and the statistics read only these columns, never the table row
    # (on SQLite a column stored after a large report must otherwise be read through its overflow pages)
    op.create_index("ix_submissions_course_learner", "submissions", GRADEBOOK_COLUMNS)
    op.create_index("ix_submissions_course_created", "submissions", ["course_id", "created_at", "id"])
    op.create_index("ix_submissions_exercise_course", "submissions", STATS_COLUMNS)
    op.create_index("ix_submissions_learner_created", "submissions", ["learner", "created_at", "id"])
    op.create_index("ix_enrollments_course_learner", "enrollments", ["course_id", "learner"])
    op.create_table(
        "regrade_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("course_id", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),  # queued, running, done, failed
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("after_created_at", sa.DateTime(timezone=True)),  # the last regraded row: where to resume
        sa.Column("after_id", sa.String(32)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    _backfill_misconceptions()


def _backfill_misconceptions():
    """Slugs of the submissions stored so far, read once from their reports."""
    bind = op.get_bind()
    submissions = sa.table("submissions", sa.column("id"), sa.column("learner"), sa.column("exercise_id"),
                           sa.column("course_id"), sa.column("created_at"), sa.column("report", sa.JSON))
    target = sa.table("submission_misconceptions", sa.column("submission_id"), sa.column("slug"),
                      sa.column("learner"), sa.column("exercise_id"), sa.column("course_id"),
                      sa.column("created_at"))
    last = ""
    while True:
        rows = bind.execute(sa.select(submissions).where(submissions.c.id > last).order_by(submissions.c.id)
                            .limit(1000)).all()
        if not rows:
            return
        values = [{"submission_id": r.id, "slug": slug, "learner": r.learner, "exercise_id": r.exercise_id,
                   "course_id": r.course_id, "created_at": r.created_at}
                  for r in rows for slug in dict.fromkeys(m["slug"] for m in (r.report or {}).get("misconceptions", []))]
        if values:
            bind.execute(target.insert(), values)
        last = rows[-1].id


def downgrade():
    op.drop_table("regrade_jobs")
    op.drop_index("ix_enrollments_course_learner", table_name="enrollments")
    op.drop_index("ix_submissions_learner_created", table_name="submissions")
    op.drop_index("ix_submissions_exercise_course", table_name="submissions")
    op.drop_index("ix_submissions_course_created", table_name="submissions")
    op.drop_index("ix_submissions_course_learner", table_name="submissions")
    op.drop_index("ix_misconceptions_exercise_course", table_name="submission_misconceptions")
    op.drop_table("submission_misconceptions")
