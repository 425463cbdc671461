"""Initial schema: users, tokens, devices, cluster admins, identities, nicknames, outbox.

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
    op.create_table(
        "users",
        sa.Column("identity_id", UUID, primary_key=True),
        sa.Column("oidc_subject", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("photo_url", sa.Text, nullable=False, server_default=""),
        sa.Column("nickname", sa.Text, nullable=False, server_default=""),
        sa.Column("username", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("users_oidc_subject_idx", "users", ["oidc_subject"], unique=True)
    op.create_index(
        "users_username_idx",
        "users",
        ["username"],
        unique=True,
        postgresql_where=sa.text("username IS NOT NULL"),
    )
    op.create_index(
        "users_username_prefix_idx", "users", ["username"], postgresql_ops={"username": "text_pattern_ops"}
    )
    op.create_table(
        "cluster_admins",
        sa.Column("identity_id", UUID, primary_key=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "user_api_tokens",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "identity_id", UUID, sa.ForeignKey("users.identity_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("token_prefix", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("user_api_tokens_identity_created_idx", "user_api_tokens", ["identity_id", "created_at"])
    op.create_table(
        "user_devices",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "identity_id", UUID, sa.ForeignKey("users.identity_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("openziti_identity_id", sa.Text, nullable=False),
        sa.Column("enrollment_jwt", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("user_devices_identity_idx", "user_devices", ["identity_id"])
    # identity_type: the proto IdentityType numbers (agent 1, runner 2, user 4, app 5).
    op.create_table(
        "identities",
        sa.Column("identity_id", UUID, primary_key=True),
        sa.Column("identity_type", sa.SmallInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "org_nicknames",
        sa.Column("id", UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("organization_id", UUID, nullable=False),
        sa.Column(
            "identity_id", UUID, sa.ForeignKey("identities.identity_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("installation_id", UUID, nullable=True),
        sa.Column("nickname", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index(
        "org_nicknames_org_nickname_idx", "org_nicknames", ["organization_id", "nickname"], unique=True
    )
    op.create_index(
        "org_nicknames_org_identity_idx",
        "org_nicknames",
        ["organization_id", "identity_id"],
        unique=True,
        postgresql_where=sa.text("installation_id IS NULL"),
    )
    op.create_index(
        "org_nicknames_org_installation_idx",
        "org_nicknames",
        ["organization_id", "installation_id"],
        unique=True,
        postgresql_where=sa.text("installation_id IS NOT NULL"),
    )
    create_outbox_table(op)
    create_idempotency_table(op)


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "outbox",
        "org_nicknames",
        "identities",
        "user_devices",
        "user_api_tokens",
        "cluster_admins",
        "users",
    ):
        op.drop_table(table)
