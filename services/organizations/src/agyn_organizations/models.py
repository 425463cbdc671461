"""Tables of the organizations database (organizations sheet §6)."""

from __future__ import annotations

import sqlalchemy as sa
from agyn_common.org_access import GRANTABLE_RELATIONS
from sqlalchemy.dialects import postgresql

# This service's own tables; the outbox and idempotency tables are added to it at start.
metadata = sa.MetaData()
UUID = postgresql.UUID(as_uuid=True)
NOW = sa.text("now()")

MEMBERSHIP_ROLE = postgresql.ENUM("owner", "member", name="membership_role", create_type=False)
MEMBERSHIP_STATUS = postgresql.ENUM("pending", "active", name="membership_status", create_type=False)

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organization_id", UUID, sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("identity_id", UUID, nullable=False),  # identities live in the Identity service
    sa.Column("role", MEMBERSHIP_ROLE, nullable=False),
    sa.Column("status", MEMBERSHIP_STATUS, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.UniqueConstraint("organization_id", "identity_id", name="memberships_organization_identity_key"),
)

# Direct relations for identities without a membership row (app installations, sandboxes).
organization_grants = sa.Table(
    "organization_grants",
    metadata,
    sa.Column(
        "organization_id", UUID, sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("identity_id", UUID, primary_key=True),
    sa.Column("relation", sa.Text, primary_key=True),
    sa.Column("granted_by", sa.Text, nullable=False),  # the calling service, for audit
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    sa.CheckConstraint(
        "relation IN ({})".format(", ".join(f"'{name}'" for name in sorted(GRANTABLE_RELATIONS))),
        name="organization_grants_relation_check",
    ),
)


def active_membership() -> sa.ColumnElement[bool]:
    """A membership that grants its role now: accepted and not expired."""
    return sa.and_(
        memberships.c.status == "active",
        sa.or_(memberships.c.expires_at.is_(None), memberships.c.expires_at > sa.func.now()),
    )
