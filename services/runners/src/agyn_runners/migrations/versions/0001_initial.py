"""Initial schema: runners, workloads, volumes, the outbox and the idempotency keys.

Revision ID: 0001
Revises:
"""

from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from alembic import op

from agyn_runners.models import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("runners", "workloads", "volumes")


def upgrade() -> None:
    create_outbox_table(op)
    create_idempotency_table(op)
    bind = op.get_bind()
    for name in TABLES:
        metadata.tables[name].create(bind)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
    op.drop_table("idempotency_keys")
    op.drop_table("outbox")
