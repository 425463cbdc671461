"""Tables of the agents database (agents sheet §6).

Every table has a UUID `id` (the agent's is also its identity id) and `created_at` /
`updated_at`; lists are ordered by (created_at, id), so each listing has an index ending in
those. Foreign keys restrict: deleting a row still referenced is FAILED_PRECONDITION (§8 #7).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

AVAILABILITIES = ("internal", "private")
ROLES = ("owner", "maintainer", "participant")
TARGETS = ("agent_id", "mcp_id", "hook_id")  # what an ENV, script or attachment belongs to


def _id() -> sa.Column[Any]:
    return sa.Column("id", UUID, primary_key=True)


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    ]


def _resources() -> list[sa.Column[str]]:
    """ComputeResources, flattened."""
    return [
        _text(f"resources_{name}")
        for name in ("requests_cpu", "requests_memory", "limits_cpu", "limits_memory")
    ]


def _exactly_one(table: str, columns: tuple[str, ...], what: str) -> sa.CheckConstraint:
    count = " + ".join(f"({column} IS NOT NULL)::int" for column in columns)
    return sa.CheckConstraint(f"{count} = 1", name=f"{table}_one_{what}")


def _targets() -> list[sa.Column[Any]]:
    """The nullable agent/MCP/hook references of a row that belongs to exactly one of them."""
    return [
        sa.Column("agent_id", UUID, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("mcp_id", UUID, sa.ForeignKey("mcps.id"), nullable=True),
        sa.Column("hook_id", UUID, sa.ForeignKey("hooks.id"), nullable=True),
    ]


def _target_rules(table: str) -> list[Any]:
    """Exactly one target, and each target's listing in (created_at, id) order."""
    return [
        _exactly_one(table, TARGETS, "target"),
        *(sa.Index(f"{table}_{target}_idx", target, "created_at", "id") for target in TARGETS),
    ]


def _attachment_uniques(table: str, linked: str) -> list[sa.Index]:
    """One link per (linked thing, target), whatever the target's kind."""
    return [
        sa.Index(
            f"{table}_{target}_key",
            linked,
            target,
            unique=True,
            postgresql_where=sa.text(f"{target} IS NOT NULL"),
        )
        for target in TARGETS
    ]


agents = sa.Table(
    "agents",
    metadata,
    _id(),
    sa.Column("organization_id", UUID, nullable=False),
    _text("name"),
    _text("nickname"),  # "" = none
    _text("role"),
    sa.Column("model", UUID, nullable=False),
    _text("description"),
    sa.Column("configuration", sa.Text, nullable=False, server_default="{}"),
    _text("image"),
    _text("init_image"),
    *_resources(),
    sa.Column("idle_timeout", sa.Text, nullable=True),
    sa.Column("capabilities", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("availability", sa.Text, nullable=False),
    *_timestamps(),
    sa.CheckConstraint(f"availability IN {AVAILABILITIES}", name="agents_availability"),
    sa.Index("agents_organization_idx", "organization_id", "created_at", "id"),
    sa.Index("agents_created_idx", "created_at", "id"),  # the unfiltered internal listing
    # A nickname names one identity in its organization (Identity is the authority across
    # identity kinds; this keeps two agents from ever sharing one).
    sa.Index(
        "agents_organization_nickname_key",
        "organization_id",
        "nickname",
        unique=True,
        postgresql_where=sa.text("nickname <> ''"),
    ),
)

# The per-agent roles (sheet §8 #1): the facts Agents answers agent relations from.
agent_roles = sa.Table(
    "agent_roles",
    metadata,
    sa.Column("agent_id", UUID, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("identity_id", UUID, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    *_timestamps(),
    sa.CheckConstraint(f"role IN {ROLES}", name="agent_roles_role"),
    sa.Index("agent_roles_identity_idx", "identity_id", "agent_id"),
)

volumes = sa.Table(
    "volumes",
    metadata,
    _id(),
    sa.Column("organization_id", UUID, nullable=False),
    sa.Column("persistent", sa.Boolean, nullable=False, server_default=sa.false()),
    _text("mount_path"),
    _text("size"),
    _text("description"),
    sa.Column("ttl", sa.Text, nullable=True),  # null: never removed for age
    *_timestamps(),
    sa.Index("volumes_organization_idx", "organization_id", "created_at", "id"),
)

mcps = sa.Table(
    "mcps",
    metadata,
    _id(),
    sa.Column("agent_id", UUID, sa.ForeignKey("agents.id"), nullable=False),
    _text("name"),
    _text("image"),
    _text("command"),
    *_resources(),
    _text("description"),
    *_timestamps(),
    sa.UniqueConstraint("agent_id", "name", name="mcps_agent_name_key"),
    sa.Index("mcps_agent_idx", "agent_id", "created_at", "id"),
)

skills = sa.Table(
    "skills",
    metadata,
    _id(),
    sa.Column("agent_id", UUID, sa.ForeignKey("agents.id"), nullable=False),
    _text("name"),
    _text("body"),
    _text("description"),
    *_timestamps(),
    sa.UniqueConstraint("agent_id", "name", name="skills_agent_name_key"),
    sa.Index("skills_agent_idx", "agent_id", "created_at", "id"),
)

hooks = sa.Table(
    "hooks",
    metadata,
    _id(),
    sa.Column("agent_id", UUID, sa.ForeignKey("agents.id"), nullable=False),
    _text("event"),
    _text("function"),
    _text("image"),
    *_resources(),
    _text("description"),
    *_timestamps(),
    sa.Index("hooks_agent_idx", "agent_id", "created_at", "id"),
)

envs = sa.Table(
    "envs",
    metadata,
    _id(),
    _text("name"),
    _text("description"),
    *_targets(),
    sa.Column("value", sa.Text, nullable=True),  # "" is a value; null means a secret
    sa.Column("secret_id", UUID, nullable=True),  # a Secrets-owned id, never resolved here
    *_timestamps(),
    *_target_rules("envs"),
    _exactly_one("envs", ("value", "secret_id"), "source"),
)

init_scripts = sa.Table(
    "init_scripts",
    metadata,
    _id(),
    _text("script"),
    _text("description"),
    *_targets(),
    *_timestamps(),
    *_target_rules("init_scripts"),
)

volume_attachments = sa.Table(
    "volume_attachments",
    metadata,
    _id(),
    sa.Column("volume_id", UUID, sa.ForeignKey("volumes.id"), nullable=False),
    *_targets(),
    *_timestamps(),
    *_target_rules("volume_attachments"),
    *_attachment_uniques("volume_attachments", "volume_id"),
    sa.Index("volume_attachments_volume_idx", "volume_id", "created_at", "id"),
)

image_pull_secret_attachments = sa.Table(
    "image_pull_secret_attachments",
    metadata,
    _id(),
    # Secrets owns the secret: no foreign key, no existence check.
    sa.Column("image_pull_secret_id", UUID, nullable=False),
    *_targets(),
    *_timestamps(),
    *_target_rules("image_pull_secret_attachments"),
    *_attachment_uniques("image_pull_secret_attachments", "image_pull_secret_id"),
    sa.Index("image_pull_secret_attachments_secret_idx", "image_pull_secret_id", "created_at", "id"),
)
