"""Tables of the runners database (runners sheet §6).

Enums are lowercase text under CHECK constraints (convert.py maps them); labels, capabilities
and containers are JSON. Workload and volume ids come from the orchestrator.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()

RUNNER_STATUSES = ("pending", "enrolled", "offline")
WORKLOAD_STATUSES = ("starting", "running", "stopping", "stopped", "failed")
AGENT_STATES = ("processing", "idle")
FAILURE_REASONS = ("start_failed", "image_pull_failed", "config_invalid", "crashloop", "runtime_lost")
VOLUME_STATUSES = ("provisioning", "active", "deprovisioning", "deleted", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


def _times() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


runners = sa.Table(
    "runners",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("organization_id", sa.Uuid, nullable=True, index=True),  # NULL: cluster-scoped
    sa.Column("identity_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("service_token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("status", sa.Text, nullable=False, server_default="pending", index=True),
    sa.Column("labels", postgresql.JSONB, nullable=False, server_default="{}"),
    sa.Column("capabilities", postgresql.JSONB, nullable=False, server_default="[]"),
    # The id of the credential of the last enrollment (the sheet's ziti_identity_id).
    sa.Column("credential_id", sa.Text, nullable=False, server_default=""),
    # `runner-<id>`, returned as openziti_service_name: a name only, no OpenZiti service.
    sa.Column("service_name", sa.Text, nullable=False, server_default=""),
    # host:port the daemon serves RunnerService on, told at enrollment (DESIGN §3).
    sa.Column("address", sa.Text, nullable=True),
    *_times(),
    _one_of("status", RUNNER_STATUSES),
)

workloads = sa.Table(
    "workloads",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column(
        "runner_id", sa.Uuid, sa.ForeignKey("runners.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("thread_id", sa.Uuid, nullable=False),
    sa.Column("agent_id", sa.Uuid, nullable=False, index=True),
    sa.Column("organization_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="starting", index=True),
    sa.Column("agent_state", sa.Text, nullable=False, server_default="processing"),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("failure_message", sa.Text, nullable=True),
    sa.Column("containers", postgresql.JSONB, nullable=False, server_default="[]"),
    sa.Column("ziti_identity_id", sa.Text, nullable=False, server_default=""),
    sa.Column("allocated_cpu_millicores", sa.Integer, nullable=False, server_default="0"),
    sa.Column("allocated_ram_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("instance_id", sa.Text, nullable=True),
    sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_metering_sampled_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    *_times(),
    _one_of("status", WORKLOAD_STATUSES),
    _one_of("agent_state", AGENT_STATES),
    sa.CheckConstraint(
        "failure_reason IS NULL OR failure_reason IN ("
        + ", ".join(f"'{value}'" for value in FAILURE_REASONS)
        + ")",
        name="failure_reason_known",
    ),
    sa.Index("workloads_by_thread", "thread_id", "agent_id", sa.text("created_at DESC"), sa.text("id DESC")),
    sa.Index("workloads_by_organization", "organization_id", "created_at"),
    # What the activity sweep reads (sheet §5).
    sa.Index(
        "workloads_processing",
        "last_activity_at",
        postgresql_where=sa.text("status = 'running' AND agent_state = 'processing' AND removed_at IS NULL"),
    ),
)

volumes = sa.Table(
    "volumes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("instance_id", sa.Text, nullable=True),
    sa.Column("volume_id", sa.Uuid, nullable=False, index=True),
    sa.Column("thread_id", sa.Uuid, nullable=False, index=True),
    sa.Column("agent_id", sa.Uuid, nullable=False),
    sa.Column("organization_id", sa.Uuid, nullable=False, index=True),
    sa.Column(
        "runner_id", sa.Uuid, sa.ForeignKey("runners.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("size_gb", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="provisioning", index=True),
    sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_metering_sampled_at", sa.DateTime(timezone=True), nullable=True),
    *_times(),
    _one_of("status", VOLUME_STATUSES),
)
