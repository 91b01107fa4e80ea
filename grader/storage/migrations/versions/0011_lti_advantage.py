"""LTI Advantage: line items per resource link, the NRPS endpoint per course, a per-learner score
clock (microsecond timestamps, strictly increasing) and learners' names from the roster.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_resource_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("deployment_id", sa.String(500), nullable=False),
        sa.Column("resource_link_id", sa.String(500), nullable=False),
        sa.Column("lineitem_url", sa.String(2000)),
        sa.Column("lineitems_url", sa.String(2000)),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("issuer", "client_id", "deployment_id", "resource_link_id", name="uq_lti_resource_link"),
    )
    op.create_table(
        "lti_contexts",
        sa.Column("course_id", sa.String(100), sa.ForeignKey("courses.id"), primary_key=True),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("context_id", sa.String(500), nullable=False),
        sa.Column("memberships_url", sa.String(2000)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("lti_links") as batch:
        batch.add_column(sa.Column("last_timestamp", sa.DateTime(timezone=True)))
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("name", sa.String(200)))


def downgrade():
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("lti_links") as batch:
        batch.drop_column("last_timestamp")
    op.drop_table("lti_contexts")
    op.drop_table("lti_resource_links")
