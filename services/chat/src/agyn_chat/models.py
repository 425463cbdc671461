"""Tables of the chat database (chat sheet §6): one row per chat created through Chat.

Participants, messages and read state are Threads'; a row holds what the chat app adds: the
organization's list, its order, status and summary, and whether the chat was deleted.
"""

from __future__ import annotations

import sqlalchemy as sa

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()

OPEN, CLOSED = 1, 2  # ChatStatus numbers

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("thread_id", sa.Uuid, primary_key=True),  # no foreign key: Threads' database
    sa.Column("organization_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.SmallInteger, nullable=False, server_default=str(OPEN)),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("created_by", sa.Uuid, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),  # the list's order
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(f"status IN ({OPEN}, {CLOSED})", name="status_known"),
    sa.Index(
        "chats_listing_idx",
        "organization_id",
        sa.text("created_at DESC"),
        sa.text("thread_id DESC"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
    sa.Index(
        "chats_listing_by_status_idx",
        "organization_id",
        "status",
        sa.text("created_at DESC"),
        sa.text("thread_id DESC"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    ),
)
