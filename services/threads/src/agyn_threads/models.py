"""Tables of the threads database (threads sheet §A6)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organization_id", UUID, nullable=True),  # null only for imported legacy rows
    sa.Column("status", sa.SmallInteger, nullable=False),  # the ThreadStatus numbers
    sa.Column("message_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("degraded_reason", sa.Text, nullable=True),
    sa.Column("degraded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
)

thread_participants = sa.Table(
    "thread_participants",
    metadata,
    sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("participant_id", UUID, primary_key=True),
    sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("passive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),  # stable order
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sender_id", UUID, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("file_ids", postgresql.ARRAY(UUID), nullable=False, server_default="{}"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

message_recipients = sa.Table(
    "message_recipients",
    metadata,
    sa.Column("message_id", UUID, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("thread_id", UUID, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", UUID, primary_key=True),
    sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),  # null: unacknowledged
)
