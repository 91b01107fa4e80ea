"""Asynchronous grading: attempts and the time a queued submission was graded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("grading_attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("graded_at", sa.DateTime(timezone=True)))
    op.create_index("ix_submissions_verdict", "submissions", ["verdict"])


def downgrade():
    op.drop_index("ix_submissions_verdict", table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("graded_at")
        batch.drop_column("grading_attempts")
