"""Initial schema: the files, the outbox and the idempotency keys.

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


def upgrade() -> None:
    create_outbox_table(op)
    create_idempotency_table(op)
    op.create_table(
        "files",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("uploader_identity_id", UUID, nullable=True),
        sa.Column("uploader_identity_type", sa.Text, nullable=True),
        sa.CheckConstraint("size_bytes > 0", name="files_size_positive"),
    )
    op.create_index("files_created_at", "files", ["created_at"])


def downgrade() -> None:
    op.drop_table("files")
    op.drop_table("idempotency_keys")
    op.drop_table("outbox")
