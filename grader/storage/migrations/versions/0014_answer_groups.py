"""Answer groups: the behavioural fingerprint of a wrong code submission (its outputs on the probe
instances), and the diagnoses instructors give to a group of their course.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("submissions", sa.Column("fingerprint", sa.JSON))
    op.create_table(
        "course_diagnoses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.String(100), sa.ForeignKey("courses.id"), nullable=False),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("equation", sa.String(200), nullable=False),
        sa.Column("group_id", sa.String(40), nullable=False),
        sa.Column("fingerprint", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("course_id", "slug", name="uq_course_diagnosis_slug"),
    )


def downgrade():
    op.drop_table("course_diagnoses")
    op.drop_column("submissions", "fingerprint")
