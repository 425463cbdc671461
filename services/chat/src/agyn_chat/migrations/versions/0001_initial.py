"""Initial schema: chats, the outbox (the runtime's relay reads it; Chat emits no events) and
the idempotency keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("thread_id", sa.Uuid, primary_key=True),
        sa.Column("organization_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False, server_default="1"),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("created_by", sa.Uuid, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN (1, 2)", name="status_known"),
    )
    op.create_index(
        "chats_listing_idx",
        "chats",
        ["organization_id", sa.text("created_at DESC"), sa.text("thread_id DESC")],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "chats_listing_by_status_idx",
        "chats",
        ["organization_id", "status", sa.text("created_at DESC"), sa.text("thread_id DESC")],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    create_outbox_table(op)
    create_idempotency_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("outbox")
    op.drop_table("chats")
