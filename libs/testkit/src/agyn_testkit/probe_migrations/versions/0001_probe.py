"""The probe service's schema: the outbox, idempotency keys and one table of its own.

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
    # Slow on purpose: replicas migrating at once overlap here unless the lock serialises them.
    op.execute("SELECT pg_sleep(0.3)")
    create_outbox_table(op)
    create_idempotency_table(op)
    op.create_table("notes", sa.Column("body", sa.Text, primary_key=True))
