"""Initial schema: organizations, memberships, direct grants, outbox, idempotency keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.execute("CREATE TYPE membership_role AS ENUM ('owner', 'member')")
    op.execute("CREATE TYPE membership_status AS ENUM ('pending', 'active')")
    op.create_table(
        "organizations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "memberships",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "organization_id", UUID, sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("identity_id", UUID, nullable=False),
        sa.Column("role", postgresql.ENUM(name="membership_role", create_type=False), nullable=False),
        sa.Column("status", postgresql.ENUM(name="membership_status", create_type=False), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.UniqueConstraint("organization_id", "identity_id", name="memberships_organization_identity_key"),
    )
    # Keyset pages of one organization's members, of one identity's memberships, and checks.
    op.create_index("memberships_organization_id_idx", "memberships", ["organization_id", "id"])
    op.create_index("memberships_identity_id_idx", "memberships", ["identity_id", "id"])
    op.create_index(
        "memberships_active_idx",
        "memberships",
        ["identity_id", "organization_id"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "organization_grants",
        sa.Column(
            "organization_id",
            UUID,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("identity_id", UUID, primary_key=True),
        sa.Column("relation", sa.Text, primary_key=True),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(
            "relation IN ('inbox_write', 'member', 'participant_add', 'thread_create', 'thread_write')",
            name="organization_grants_relation_check",
        ),
    )
    op.create_index("organization_grants_identity_id_idx", "organization_grants", ["identity_id"])
    create_outbox_table(op)
    create_idempotency_table(op)


def downgrade() -> None:
    for table in ("idempotency_keys", "outbox", "organization_grants", "memberships", "organizations"):
        op.drop_table(table)
    op.execute("DROP TYPE membership_status")
    op.execute("DROP TYPE membership_role")
