"""API keys and submissions.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("learner", sa.String(200)),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("exercise_id", sa.String(100), nullable=False),
        sa.Column("exercise_version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("learner", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id")),
        sa.Column("seed", sa.BigInteger),
        sa.Column("attempt", sa.Integer),
        sa.Column("answer", sa.JSON),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_submissions_learner_exercise", "submissions", ["learner", "exercise_id"])


def downgrade():
    op.drop_index("ix_submissions_learner_exercise", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("api_keys")
