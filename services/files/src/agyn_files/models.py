"""Tables of the files database (files sheet A.6)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", UUID, primary_key=True),  # also the object's key
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    # Who uploaded it, for a later authorization or DeleteFile (files sheet A.8-1).
    sa.Column("uploader_identity_id", UUID, nullable=True),
    sa.Column("uploader_identity_type", sa.Text, nullable=True),
    sa.CheckConstraint("size_bytes > 0", name="files_size_positive"),
    sa.Index("files_created_at", "created_at"),
)
