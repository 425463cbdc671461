"""Workload credentials: the hashed bearer credentials of agent workloads and runners.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "workload_credentials",
        sa.Column("credential_hash", sa.Text, primary_key=True),
        sa.Column("identity_id", UUID, nullable=False),
        sa.Column("identity_type", sa.SmallInteger, nullable=False),
        sa.Column("workload_id", UUID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_index("workload_credentials_identity_idx", "workload_credentials", ["identity_id"])


def downgrade() -> None:
    op.drop_table("workload_credentials")
