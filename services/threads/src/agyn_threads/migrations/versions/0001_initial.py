"""Initial schema: threads, participants, messages, recipients' read state, outbox.

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
        "threads",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organization_id", UUID, nullable=True),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("degraded_reason", sa.Text, nullable=True),
        sa.Column("degraded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Organization listings, one index per sort key, each with the id tie-breaker.
    for key in ("created_at", "updated_at", "message_count", "status"):
        op.create_index(f"threads_organization_{key}_idx", "threads", ["organization_id", key, "id"])
    op.create_table(
        "thread_participants",
        sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("participant_id", UUID, primary_key=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("passive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
    )
    op.create_index(
        "thread_participants_participant_idx", "thread_participants", ["participant_id", "thread_id"]
    )
    op.create_table(
        "messages",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender_id", UUID, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("file_ids", postgresql.ARRAY(UUID), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("messages_thread_idx", "messages", ["thread_id", "created_at", "id"])
    op.create_table(
        "message_recipients",
        sa.Column("message_id", UUID, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("participant_id", UUID, primary_key=True),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "message_recipients_unacked_idx",
        "message_recipients",
        ["participant_id", "thread_id"],
        postgresql_where=sa.text("acked_at IS NULL"),
    )
    op.create_index("message_recipients_thread_idx", "message_recipients", ["thread_id", "participant_id"])
    create_outbox_table(op)
    create_idempotency_table(op)


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "outbox",
        "message_recipients",
        "messages",
        "thread_participants",
        "threads",
    ):
        op.drop_table(table)
