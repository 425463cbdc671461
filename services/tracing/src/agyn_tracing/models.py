"""Tables of the tracing database (files-tracing B.6)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()

# One row per (trace_id, span_id), replaced whole by every export of the span (B.3.3). The
# JSON columns hold protojson of the OpenTelemetry messages; the derived columns are computed
# at ingest so that queries filter and sum plain columns.
spans = sa.Table(
    "spans",
    metadata,
    sa.Column("trace_id", sa.LargeBinary, primary_key=True),
    sa.Column("span_id", sa.LargeBinary, primary_key=True),
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
)
