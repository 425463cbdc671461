"""Initial schema: spans (files-tracing B.6), the outbox and the idempotency keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_table(op)
    create_idempotency_table(op)
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.LargeBinary, nullable=False),
        sa.Column("span_id", sa.LargeBinary, nullable=False),
        sa.Column("trace_state", sa.Text, nullable=False, server_default=""),
        sa.Column("parent_span_id", sa.LargeBinary, nullable=False, server_default=sa.text("''::bytea")),
        sa.Column("flags", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("start_time_unix_nano", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("end_time_unix_nano", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("dropped_attributes_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("events", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("dropped_events_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("links", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("dropped_links_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("status_code", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("status_message", sa.Text, nullable=False, server_default=""),
        sa.Column("resource", JSONB),
        sa.Column("instrumentation_scope", JSONB),
        sa.Column("organization_id", sa.Text),
        sa.Column("message_id", sa.Text),
        sa.Column("workload_id", sa.Text),
        sa.Column("thread_id", sa.Text),
        sa.Column("input_tokens", sa.BigInteger),
        sa.Column("output_tokens", sa.BigInteger),
        sa.Column("cache_read_input_tokens", sa.BigInteger),
        sa.Column("reasoning_tokens", sa.BigInteger),
        sa.Column("revision", sa.BigInteger, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("trace_id", "span_id"),
    )
    op.create_index("spans_start_time", "spans", ["start_time_unix_nano"])
    op.create_index("spans_parent_span_id", "spans", ["parent_span_id"])
    op.create_index(
        "spans_message_id", "spans", ["message_id"], postgresql_where=sa.text("message_id IS NOT NULL")
    )
    # The ListSpans keyset, within one organization.
    op.create_index(
        "spans_organization_keyset",
        "spans",
        ["organization_id", "start_time_unix_nano", "trace_id", "span_id"],
        postgresql_where=sa.text("organization_id IS NOT NULL"),
    )
    op.create_index(
        "spans_workload",
        "spans",
        ["workload_id", "start_time_unix_nano"],
        postgresql_where=sa.text("workload_id IS NOT NULL"),
    )
    op.create_index("spans_updated_at", "spans", ["updated_at"])


def downgrade() -> None:
    op.drop_table("spans")
    op.drop_table("idempotency_keys")
    op.drop_table("outbox")
