"""Initial schema: runners, workloads, volumes, the outbox and the idempotency keys.

Written out rather than built from models.py, so that a later change of the models cannot
change what this revision did (tests/test_migrations.py checks the two agree).

Revision ID: 0001
Revises:
"""

from typing import Any

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


def _one_of(column: str, *values: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


def _times() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    ]


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    create_outbox_table(op)
    create_idempotency_table(op)
    op.create_table(
        "runners",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("organization_id", UUID, nullable=True),
        sa.Column("identity_id", UUID, nullable=False, unique=True),
        sa.Column("service_token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("labels", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("capabilities", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("credential_id", sa.Text, nullable=False, server_default=""),
        sa.Column("service_name", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text, nullable=True),
        *_times(),
        _one_of("status", "pending", "enrolled", "offline"),
    )
    _indexes("runners", "organization_id", "status")
    op.create_table(
        "workloads",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("runner_id", UUID, sa.ForeignKey("runners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("thread_id", UUID, nullable=False),
        sa.Column("agent_id", UUID, nullable=False),
        sa.Column("organization_id", UUID, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="starting"),
        sa.Column("agent_state", sa.Text, nullable=False, server_default="processing"),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("failure_message", sa.Text, nullable=True),
        sa.Column("containers", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("ziti_identity_id", sa.Text, nullable=False, server_default=""),
        sa.Column("allocated_cpu_millicores", sa.Integer, nullable=False, server_default="0"),
        sa.Column("allocated_ram_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("instance_id", sa.Text, nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("last_metering_sampled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        *_times(),
        _one_of("status", "starting", "running", "stopping", "stopped", "failed"),
        _one_of("agent_state", "processing", "idle"),
        sa.CheckConstraint(
            "failure_reason IS NULL OR failure_reason IN ('start_failed', 'image_pull_failed', "
            "'config_invalid', 'crashloop', 'runtime_lost')",
            name="failure_reason_known",
        ),
    )
    _indexes("workloads", "runner_id", "agent_id", "status")
    op.create_index(
        "workloads_by_thread",
        "workloads",
        ["thread_id", "agent_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index("workloads_by_organization", "workloads", ["organization_id", "created_at"])
    op.create_index(
        "workloads_processing",
        "workloads",
        ["last_activity_at"],
        postgresql_where=sa.text("status = 'running' AND agent_state = 'processing' AND removed_at IS NULL"),
    )
    op.create_table(
        "volumes",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("instance_id", sa.Text, nullable=True),
        sa.Column("volume_id", UUID, nullable=False),
        sa.Column("thread_id", UUID, nullable=False),
        sa.Column("agent_id", UUID, nullable=False),
        sa.Column("organization_id", UUID, nullable=False),
        sa.Column("runner_id", UUID, sa.ForeignKey("runners.id", ondelete="CASCADE"), nullable=False),
        sa.Column("size_gb", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="provisioning"),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_metering_sampled_at", sa.DateTime(timezone=True), nullable=True),
        *_times(),
        _one_of("status", "provisioning", "active", "deprovisioning", "deleted", "failed"),
    )
    _indexes("volumes", "volume_id", "thread_id", "organization_id", "runner_id", "status")


def downgrade() -> None:
    for name in ("volumes", "workloads", "runners", "idempotency_keys", "outbox"):
        op.drop_table(name)
